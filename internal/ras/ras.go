// Package ras is the council's resource allocation system: versioned, scored questionnaires whose
// points become an indicative annual budget, either as pence per point (with an optional minimum
// and cap) or through bands of points. A version is a draft until activated; an active version is
// immutable and is retired when a newer one is activated, so every indicative budget can name the
// version that produced it.
package ras

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/money"
)

// AssessmentType is the kind of assessment a version scores: needs, carer or child.
type AssessmentType string

// The assessment types a RAS can serve.
const (
	Needs AssessmentType = "needs"
	Carer AssessmentType = "carer"
	Child AssessmentType = "child"
)

// Status is draft, active or retired.
type Status string

// The statuses of a version.
const (
	Draft   Status = "draft"
	Active  Status = "active"
	Retired Status = "retired"
)

// Option is one answer to a question and its points.
type Option struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Points int    `json:"points"`
}

// Question is one scored question.
type Question struct {
	Key     string   `json:"key"`
	Text    string   `json:"text"`
	Options []Option `json:"options"`
}

// Domain groups questions (for example "personal care").
type Domain struct {
	Key       string     `json:"key"`
	Title     string     `json:"title"`
	Questions []Question `json:"questions"`
}

// Questionnaire is the scored questionnaire of a version.
type Questionnaire struct {
	Domains []Domain `json:"domains"`
}

// ModelKind is points or bands.
type ModelKind string

// The allocation models.
const (
	PointsModel ModelKind = "points"
	BandsModel  ModelKind = "bands"
)

// Band maps an inclusive range of points to an annual amount; MaxPoints nil is open-ended.
type Band struct {
	MinPoints   int   `json:"min_points"`
	MaxPoints   *int  `json:"max_points,omitempty"`
	AnnualPence int64 `json:"annual_pence"`
}

// Model turns points into money.
type Model struct {
	Kind          ModelKind `json:"kind"`
	PencePerPoint *int64    `json:"pence_per_point,omitempty"`
	MinimumAnnual *int64    `json:"minimum_annual_pence,omitempty"`
	MaximumAnnual *int64    `json:"maximum_annual_pence,omitempty"`
	Bands         []Band    `json:"bands,omitempty"`
}

// Version is one version of a council's RAS for one assessment type.
type Version struct {
	CouncilID      uuid.UUID
	ID             uuid.UUID
	AssessmentType AssessmentType
	Number         int
	Name           string
	Status         Status
	Questionnaire  Questionnaire
	Model          Model
	ActivatedAt    *time.Time
	RetiredAt      *time.Time
	Version        int
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// MaxPoints is the most points the questionnaire can give: the best-scoring option of every question.
func (q Questionnaire) MaxPoints() int {
	total := 0
	for _, d := range q.Domains {
		for _, question := range d.Questions {
			best := 0
			for _, o := range question.Options {
				best = max(best, o.Points)
			}
			total += best
		}
	}
	return total
}

// ErrInvalidDefinition is the rule a malformed questionnaire or model breaks.
var ErrInvalidDefinition = apperr.New(apperr.RuleViolation, "ras-definition-invalid", "the RAS definition is inconsistent")

// Validate checks a questionnaire and model together: unique keys, and a model that gives an
// amount for every score the questionnaire can produce.
func Validate(q Questionnaire, m Model) error {
	var bad apperr.Fields
	domains, questions := map[string]bool{}, map[string]bool{}
	for i, d := range q.Domains {
		if domains[d.Key] {
			bad.Add(fmt.Sprintf("/questionnaire/domains/%d/key", i), "duplicate", "domain keys must be unique")
		}
		domains[d.Key] = true
		for j, question := range d.Questions {
			at := fmt.Sprintf("/questionnaire/domains/%d/questions/%d", i, j)
			if questions[question.Key] {
				bad.Add(at+"/key", "duplicate", "question keys must be unique across the questionnaire")
			}
			questions[question.Key] = true
			options := map[string]bool{}
			for k, o := range question.Options {
				if options[o.Key] {
					bad.Add(fmt.Sprintf("%s/options/%d/key", at, k), "duplicate", "option keys must be unique within a question")
				}
				options[o.Key] = true
			}
		}
	}
	switch m.Kind {
	case PointsModel:
		if m.PencePerPoint == nil {
			bad.Add("/model/pence_per_point", "required", "a points model needs pence_per_point")
		}
		if len(m.Bands) > 0 {
			bad.Add("/model/bands", "not_allowed", "a points model has no bands")
		}
		if m.MinimumAnnual != nil && m.MaximumAnnual != nil && *m.MinimumAnnual > *m.MaximumAnnual {
			bad.Add("/model/minimum_annual_pence", "range", "the minimum must not exceed the cap")
		}
	case BandsModel:
		if m.PencePerPoint != nil || m.MinimumAnnual != nil || m.MaximumAnnual != nil {
			bad.Add("/model", "not_allowed", "a bands model has no pence_per_point, minimum or cap")
		}
		checkBands(m.Bands, q.MaxPoints(), &bad)
	default:
		bad.Add("/model/kind", "enum", "kind must be points or bands")
	}
	if len(bad) > 0 {
		e := *ErrInvalidDefinition
		e.Fields = bad
		return &e
	}
	return nil
}

func checkBands(bands []Band, maxPoints int, bad *apperr.Fields) {
	if len(bands) == 0 {
		bad.Add("/model/bands", "required", "a bands model needs at least one band")
		return
	}
	next := 0
	for i, b := range bands {
		at := fmt.Sprintf("/model/bands/%d", i)
		if b.MinPoints != next {
			bad.Add(at+"/min_points", "contiguous", fmt.Sprintf("bands start at 0 and follow on without gaps or overlaps: want %d", next))
		}
		if b.MaxPoints == nil {
			if i != len(bands)-1 {
				bad.Add(at+"/max_points", "required", "only the last band may be open-ended")
			}
			return
		}
		if *b.MaxPoints < b.MinPoints {
			bad.Add(at+"/max_points", "range", "max_points must be at least min_points")
		}
		next = *b.MaxPoints + 1
	}
	if next <= maxPoints {
		bad.Add("/model/bands", "coverage", fmt.Sprintf("the bands end at %d points but the questionnaire can give %d", next-1, maxPoints))
	}
}

// Result is an indicative budget worked out from answers.
type Result struct {
	Points         int
	PointsByDomain map[string]int
	AnnualPence    int64
	Steps          []money.Step
}

// ErrAnswers is the rule answers break when they do not fit the version's questionnaire.
var ErrAnswers = apperr.New(apperr.RuleViolation, "ras-answers-invalid", "the RAS answers do not fit the active RAS version's questionnaire")

// Calculate scores answers (question key → option key) with version v. Every question must be
// answered with one of its options, and no other key may appear.
func Calculate(v Version, answers map[string]string) (Result, error) {
	var bad apperr.Fields
	res := Result{PointsByDomain: map[string]int{}}
	known := map[string]bool{}
	for _, d := range v.Questionnaire.Domains {
		for _, q := range d.Questions {
			known[q.Key] = true
			choice, ok := answers[q.Key]
			if !ok {
				bad.Add("/ras_answers/"+q.Key, "required", "question "+q.Key+" is not answered")
				continue
			}
			found := false
			for _, o := range q.Options {
				if o.Key == choice {
					res.PointsByDomain[d.Key] += o.Points
					res.Points += o.Points
					found = true
				}
			}
			if !found {
				bad.Add("/ras_answers/"+q.Key, "unknown_option", "question "+q.Key+" has no option "+choice)
			}
		}
	}
	for key := range answers {
		if !known[key] {
			bad.Add("/ras_answers/"+key, "unknown_question", "the questionnaire has no question "+key)
		}
	}
	if len(bad) > 0 {
		sort.Slice(bad, func(i, j int) bool { return bad[i].Field < bad[j].Field })
		e := *ErrAnswers
		e.Fields = bad
		return Result{}, &e
	}
	step := func(name string, value int64, format string, args ...any) {
		res.Steps = append(res.Steps, money.NewStep(name, value, fmt.Sprintf(format, args...)))
	}
	domainKeys := make([]string, 0, len(res.PointsByDomain))
	for k := range res.PointsByDomain {
		domainKeys = append(domainKeys, k)
	}
	sort.Strings(domainKeys)
	for _, k := range domainKeys {
		step("domain_points", int64(res.PointsByDomain[k]), "domain %s: %d points", k, res.PointsByDomain[k])
	}
	step("points_total", int64(res.Points), "total: %d points (RAS %s version %d)", res.Points, v.AssessmentType, v.Number)

	switch v.Model.Kind {
	case PointsModel:
		ppp := *v.Model.PencePerPoint
		if ppp > 0 && int64(res.Points) > math.MaxInt64/ppp {
			return Result{}, ErrInvalidDefinition.WithMessage("points × pence_per_point overflows")
		}
		annual := int64(res.Points) * ppp
		step("points_times_rate", annual, "%d points × %s a point = %s a year", res.Points, money.Format(ppp), money.Format(annual))
		if m := v.Model.MinimumAnnual; m != nil && annual < *m {
			annual = *m
			step("minimum", annual, "raised to the minimum of %s a year", money.Format(*m))
		}
		if m := v.Model.MaximumAnnual; m != nil && annual > *m {
			annual = *m
			step("cap", annual, "capped at %s a year", money.Format(*m))
		}
		res.AnnualPence = annual
	case BandsModel:
		for _, b := range v.Model.Bands {
			if res.Points >= b.MinPoints && (b.MaxPoints == nil || res.Points <= *b.MaxPoints) {
				res.AnnualPence = b.AnnualPence
				upper := "and over"
				if b.MaxPoints != nil {
					upper = fmt.Sprintf("to %d", *b.MaxPoints)
				}
				step("band", b.AnnualPence, "band %d %s points: %s a year", b.MinPoints, upper, money.Format(b.AnnualPence))
				break
			}
		}
	}
	step("annual", res.AnnualPence, "indicative budget: %s a year", money.Format(res.AnnualPence))
	weekly := money.WeeklyFromAnnual(res.AnnualPence)
	step("weekly", weekly, "%s a week (annual ÷ 52, to the nearest penny)", money.Format(weekly))
	return res, nil
}
