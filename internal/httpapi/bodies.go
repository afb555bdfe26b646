package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/ras"
)

// BodyChecker validates request bodies of the contract's operations outside an HTTP request, with
// the validator, options and error mapping of contract(): pbudget load checks a council's
// configuration files with it, so that a file and a request are held to the same rules and get
// the same errors.
type BodyChecker struct {
	bodies  map[string]*openapi3.RequestBody // by method and path, as opKey
	options *openapi3filter.Options
}

// NewBodyChecker reads the request bodies of the embedded contract.
func NewBodyChecker() (*BodyChecker, error) {
	spec, err := Spec()
	if err != nil {
		return nil, err
	}
	c := &BodyChecker{bodies: map[string]*openapi3.RequestBody{}, options: validationOptions()}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				c.bodies[opKey(method, path)] = op.RequestBody.Value
			}
		}
	}
	return c, nil
}

// Check validates body, JSON, as the request body of the operation at method and path (as the
// contract writes it, e.g. POST /v1/rate-tables), and returns it as the API would go on to decode
// it (with the schema's defaults set), or the validation problem the API would answer with.
func (c *BodyChecker) Check(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	rb, ok := c.bodies[opKey(method, path)]
	if !ok {
		return nil, fmt.Errorf("the contract has no request body for %s %s", method, path)
	}
	if len(body) > MaxBodyBytes {
		return nil, errTooLarge
	}
	// The same screen as contract(): control characters, UTF-8, trailing data, blank and trimmed text.
	var schema *openapi3.Schema
	if mt := rb.Content.Get("application/json"); mt != nil && mt.Schema != nil {
		schema = mt.Schema.Value
	}
	body, err := screenBody(body, schema)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	input := &openapi3filter.RequestValidationInput{Request: req, Options: c.options}
	if err := openapi3filter.ValidateRequestBody(ctx, input, rb); err != nil {
		return nil, validationError(err)
	}
	return io.ReadAll(req.Body)
}

// RASInput is the domain input of a createRASVersion body.
func RASInput(b api.RASVersionCreate) (ras.Input, error) {
	in := ras.Input{AssessmentType: ras.AssessmentType(b.AssessmentType), Name: b.Name}
	if err := sameShape(b.Questionnaire, &in.Questionnaire); err != nil {
		return ras.Input{}, err
	}
	if err := sameShape(b.Model, &in.Model); err != nil {
		return ras.Input{}, err
	}
	return in, nil
}

// RateTableInput is the domain table of a createRateTable body.
func RateTableInput(b api.RateTableCreate) (charging.RateTable, error) {
	t := charging.RateTable{
		Name: b.Name, ValidFrom: dateOf(b.ValidFrom), Capital: charging.CapitalLimits{Lower: b.Capital.LowerPence, Upper: b.Capital.UpperPence},
		TariffStep: b.TariffStepPence, TariffPerStep: b.TariffWeeklyPencePerStep, DREFlat: b.DreFlatWeeklyPence,
		MinimumCharge: b.MinimumWeeklyChargePence, TaperPercent: b.TaperPercent, PersonalExpenses: b.PersonalExpensesAllowanceWeeklyPence,
	}
	if b.Rounding != nil {
		t.Rounding = charging.Rounding(*b.Rounding)
	}
	if c := b.CareAtHomeCapital; c != nil {
		t.CareAtHomeCapital = &charging.CapitalLimits{Lower: c.LowerPence, Upper: c.UpperPence}
	}
	if err := sameShape(b.Mig, &t.MIG); err != nil {
		return charging.RateTable{}, err
	}
	return t, nil
}

// CategoryInput is the domain category of a createServiceCategory body (the name trimmed).
func CategoryInput(b api.ServiceCategoryCreate) plan.Category {
	return plan.Category{Key: b.Key, Name: strings.TrimSpace(b.Name), CLDServiceType: string(b.CldServiceType),
		DPAllowed: b.DpAllowed, Rule: plan.CategoryRule(b.Rule)}
}
