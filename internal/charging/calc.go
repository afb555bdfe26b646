// Package charging is the financial assessment of the Care and Support (Charging and Assessment
// of Resources) Regulations 2014 for care at home: effective-dated rate tables, the weekly
// contribution a person makes (tariff income, the Minimum Income Guarantee, disability-related
// expenditure, the taper, the cap at the cost of care, the minimum charge), and uprating.
package charging

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
)

// Household is single, couple or lone parent.
type Household string

// The households of the MIG.
const (
	Single     Household = "single"
	Couple     Household = "couple"
	LoneParent Household = "lone_parent"
)

// AgeBand is an age band of the MIG.
type AgeBand string

// The age bands.
const (
	Age18to24         AgeBand = "age_18_24"
	Age25ToPensionAge AgeBand = "age_25_to_pension_credit_age"
	PensionCreditAge  AgeBand = "pension_credit_age"
)

// CapitalLimits are the lower and upper capital limits, in pence.
type CapitalLimits struct {
	Lower int64 `json:"lower_pence"`
	Upper int64 `json:"upper_pence"`
}

// MIGBase is the weekly base amount of the MIG for a household and age band.
type MIGBase struct {
	Household Household `json:"household"`
	AgeBand   AgeBand   `json:"age_band"`
	Weekly    int64     `json:"weekly_pence"`
}

// MIG is the Minimum Income Guarantee of a rate table, weekly, in pence. A nil premium is not in
// the table.
type MIG struct {
	Base                      []MIGBase `json:"base"`
	DisabilityPremium         *int64    `json:"disability_premium_weekly_pence,omitempty"`
	EnhancedDisabilityPremium *int64    `json:"enhanced_disability_premium_weekly_pence,omitempty"`
	CarerPremium              *int64    `json:"carer_premium_weekly_pence,omitempty"`
	DependentChild            *int64    `json:"dependent_child_weekly_pence,omitempty"`
}

// Rounding is how the tapered charge is rounded to a whole penny.
type Rounding string

// The roundings a council may publish.
const (
	RoundDown    Rounding = "down"    // in the person's favour (the default)
	RoundNearest Rounding = "nearest" // to the nearest penny, halves up
)

// Valid reports whether r is a known rounding.
func (r Rounding) Valid() bool { return r == RoundDown || r == RoundNearest }

// describe words the rounding for a calculation step.
func (r Rounding) describe() string {
	if r == RoundNearest {
		return "to the nearest penny, halves up"
	}
	return "rounded down to the penny, in the person's favour"
}

// RateTable is a council's charging rates from ValidFrom until the next table's ValidFrom.
type RateTable struct {
	CouncilID         uuid.UUID
	ID                uuid.UUID
	Name              string
	ValidFrom         date.Date
	Capital           CapitalLimits
	CareAtHomeCapital *CapitalLimits
	TariffStep        int64 // pence of capital per tariff step (£250)
	TariffPerStep     int64 // weekly pence per step (£1)
	MIG               MIG
	DREFlat           *int64
	MinimumCharge     int64
	TaperPercent      int
	Rounding          Rounding // of the tapered charge
	PersonalExpenses  *int64
	Version           int
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// InForce reports whether the table has come into force by day today (and so is immutable).
func (t RateTable) InForce(today date.Date) bool { return !t.ValidFrom.After(today) }

// Kind is full or one of the light-touch assessments.
type Kind string

// The kinds of financial assessment.
const (
	Full               Kind = "full"
	LightTouchFullCost Kind = "light_touch_full_cost"
	LightTouchNil      Kind = "light_touch_nil"
)

// IncomeItem is a weekly income. Disregarded of it (at most Weekly) is not counted, for
// DisregardReason: the night-care part of attendance allowance when no night care is provided,
// say. Income of a type disregarded in full needs no partial disregard.
type IncomeItem struct {
	Type            string `json:"type"`
	Weekly          int64  `json:"weekly_pence"`
	Description     string `json:"description,omitempty"`
	Disregarded     int64  `json:"disregarded_pence,omitempty"`
	DisregardReason string `json:"disregard_reason,omitempty"`
}

// CapitalItem is a capital asset.
type CapitalItem struct {
	Type        string `json:"type"`
	Value       int64  `json:"value_pence"`
	Description string `json:"description,omitempty"`
}

// WeeklyItem is a weekly cost allowed against income.
type WeeklyItem struct {
	Description string `json:"description"`
	Weekly      int64  `json:"weekly_pence"`
}

// disregarded income is not counted (Charging Regulations 2014, schedule 1).
var disregarded = map[string]bool{"earnings": true, "pip_mobility": true, "dla_mobility": true}

// Facts are what a financial assessment records. Whether the person has attained pension credit
// age is not a fact recorded but derived from their date of birth (PensionAgeOf); an override,
// true or false, needs its reason.
type Facts struct {
	EffectiveDate             date.Date
	Household                 Household
	PensionAgeOverride        *bool
	PensionAgeOverrideReason  string
	DisabilityPremium         bool
	EnhancedDisabilityPremium bool
	CarerPremium              bool
	DependentChildren         int
	Income                    []IncomeItem
	Capital                   []CapitalItem
	HousingCosts              int64
	DREMethod                 string // individual or flat
	DRE                       []WeeklyItem
	OtherAllowances           []WeeklyItem
	LightTouchReason          string
	Notes                     string
}

// PensionAge is how the MIG's pension credit age row was chosen: the day the person attains the
// qualifying age by the State Pension age schedule, whether that is on or before the effective
// date, and the override, if any, with its reason.
type PensionAge struct {
	QualifyingDate string `json:"qualifying_date"` // ISO 8601
	ByDateOfBirth  bool   `json:"reached_by_date_of_birth"`
	Reached        bool   `json:"reached"` // what the MIG uses
	Overridden     bool   `json:"overridden"`
	OverrideReason string `json:"override_reason,omitempty"`
}

// PensionAgeOf derives the pension age facts of a person born on dob, on f's effective date, with
// f's override.
func PensionAgeOf(dob date.Date, f Facts) PensionAge {
	q := PensionCreditAgeDate(dob)
	p := PensionAge{QualifyingDate: q.String(), ByDateOfBirth: !f.EffectiveDate.Before(q)}
	p.Reached = p.ByDateOfBirth
	if o := f.PensionAgeOverride; o != nil {
		p.Reached, p.Overridden, p.OverrideReason = *o, true, f.PensionAgeOverrideReason
	}
	return p
}

// describe words the facts for a calculation step.
func (p PensionAge) describe() string {
	verb := "is not reached"
	if p.ByDateOfBirth {
		verb = "is reached"
	}
	s := fmt.Sprintf("pension credit qualifying age (the women's State Pension age for the date of birth) is attained on %s: it %s on the effective date", p.QualifyingDate, verb)
	if p.Overridden {
		s += fmt.Sprintf("; overridden to %t: %s", p.Reached, p.OverrideReason)
	}
	return s
}

// Result is a weekly contribution worked out with one rate table.
type Result struct {
	RateTableID       uuid.UUID    `json:"rate_table_id"`
	RateTableName     string       `json:"rate_table_name"`
	CapitalCounted    int64        `json:"capital_counted_pence"`
	FullCost          bool         `json:"full_cost"`
	Tariff            int64        `json:"tariff_weekly_pence"`
	IncomeCounted     int64        `json:"income_counted_weekly_pence"`
	IncomeDisregarded int64        `json:"income_disregarded_weekly_pence"`
	MIG               int64        `json:"mig_weekly_pence"`
	MIGParts          []money.Step `json:"mig_parts"`
	Housing           int64        `json:"housing_costs_weekly_pence"`
	DRE               int64        `json:"dre_weekly_pence"`
	Other             int64        `json:"other_allowances_weekly_pence"`
	Available         int64        `json:"available_weekly_pence"`
	TaperPercent      int          `json:"taper_percent"`
	Rounding          Rounding     `json:"taper_rounding"` // empty in results from before roundings: down
	PensionAge        *PensionAge  `json:"pension_credit_age,omitempty"`
	Assessed          int64        `json:"assessed_weekly_charge_pence"`
	MinimumCharge     int64        `json:"minimum_weekly_charge_pence"`
	WeeklyCost        *int64       `json:"weekly_cost_pence,omitempty"`
	WeeklyCharge      *int64       `json:"weekly_charge_pence,omitempty"`
	Steps             []money.Step `json:"steps"`
}

// Rules a calculation can break.
var (
	ErrMIGRateMissing = apperr.New(apperr.RuleViolation, "mig-rate-missing",
		"the rate table in force has no MIG rate this person needs; add it from the DHSC circular")
	ErrFlatDRENotSet = apperr.New(apperr.RuleViolation, "dre-flat-not-set",
		"the rate table in force has no flat DRE allowance; record DRE items instead")
	ErrAdultsOnly = apperr.New(apperr.RuleViolation, "financial-assessment-adults-only",
		"the charging rules apply to adults: the person is under 18 on the effective date")
	ErrDisregardInvalid = apperr.New(apperr.RuleViolation, "income-disregard-invalid",
		"a partial disregard is at most its income item's weekly amount, carries its reason, and applies only to income otherwise counted")
	ErrPensionAgeOverride = apperr.New(apperr.RuleViolation, "pension-age-override-invalid",
		"pension credit age is derived from the date of birth: an override needs its reason, and a reason its override")
)

// ValidateFacts checks the rules of a financial assessment's facts that the schema cannot state:
// partial disregards and the pension age override.
func ValidateFacts(f Facts) error {
	var bad apperr.Fields
	for i, in := range f.Income {
		at := "/income/" + itoa(i)
		switch {
		case in.Disregarded > in.Weekly:
			bad.Add(at+"/disregarded_pence", "exceeds_item", fmt.Sprintf("%s disregarded is more than the item's %s a week",
				money.Format(in.Disregarded), money.Format(in.Weekly)))
		case in.Disregarded > 0 && disregarded[in.Type]:
			bad.Add(at+"/disregarded_pence", "disregarded_in_full", in.Type+" is disregarded in full already")
		case in.Disregarded > 0 && in.DisregardReason == "":
			bad.Add(at+"/disregard_reason", "required", "a partial disregard records its reason")
		case in.Disregarded == 0 && in.DisregardReason != "":
			bad.Add(at+"/disregard_reason", "without_disregard", "a disregard reason needs disregarded_pence above 0")
		}
	}
	if len(bad) > 0 {
		e := *ErrDisregardInvalid
		e.Fields = bad
		return &e
	}
	switch {
	case f.PensionAgeOverride != nil && f.PensionAgeOverrideReason == "":
		bad.Add("/pension_credit_age_override_reason", "required", "an override of the pension credit age records its reason")
	case f.PensionAgeOverride == nil && f.PensionAgeOverrideReason != "":
		bad.Add("/pension_credit_age_override_reason", "without_override", "a reason needs pension_credit_age_override")
	default:
		return nil
	}
	e := *ErrPensionAgeOverride
	e.Fields = bad
	return &e
}

// Tariff is the weekly tariff income of capital: per-step pence for every step (or part of a
// step) of capital above the lower limit. Capital above the upper limit means the full cost and
// no tariff applies.
func Tariff(capital int64, limits CapitalLimits, step, perStep int64) int64 {
	if capital <= limits.Lower {
		return 0
	}
	excess := capital - limits.Lower
	steps := (excess + step - 1) / step // a part of a step counts as a step
	return steps * perStep
}

// Taper is the share of the available income charged, rounded to a penny by r; nothing of a
// negative available income. Rounding never takes the charge above the available income: a
// whole number of pence rounds to itself.
func Taper(available int64, percent int, r Rounding) int64 {
	x := max(0, available) * int64(percent)
	if r == RoundNearest {
		return (x + 50) / 100
	}
	return x / 100
}

// AgeBandFor returns the MIG age band of someone of age, or ErrAdultsOnly.
func AgeBandFor(age int, pensionCreditAge bool) (AgeBand, error) {
	switch {
	case age < 18:
		return "", ErrAdultsOnly
	case pensionCreditAge:
		return PensionCreditAge, nil
	case age <= 24:
		return Age18to24, nil
	}
	return Age25ToPensionAge, nil
}

// Calculate works out the weekly contribution, on the effective date, of a person born on dob,
// with table t (the one in force on that date).
//
//	tariff    = 0 up to the lower limit, else per-step pence for every step or part above it
//	full_cost = capital > upper limit
//	income    = Σ income items − their partial disregards (earnings, mobility: all disregarded)
//	MIG       = the row for household and age band (pension credit age from the date of birth,
//	            or the override) + premiums + dependent children
//	available = counted income + tariff − MIG − housing − DRE − other allowances
//	assessed  = max(0, available) × taper%, rounded down (the default) or to the nearest penny
//
// The cap at the cost of care and the minimum charge come after, in Charge.
func Calculate(kind Kind, f Facts, dob date.Date, t RateTable) (Result, error) {
	rounding := t.Rounding
	if rounding == "" {
		rounding = RoundDown
	}
	pa := PensionAgeOf(dob, f)
	r := Result{RateTableID: t.ID, RateTableName: t.Name, TaperPercent: t.TaperPercent, Rounding: rounding, MinimumCharge: t.MinimumCharge,
		PensionAge: &pa}
	add := func(name string, value int64, format string, args ...any) {
		r.Steps = append(r.Steps, money.NewStep(name, value, fmt.Sprintf(format, args...)))
	}
	add("rate_table", 0, "rate table %q, in force from %s", t.Name, t.ValidFrom)
	switch kind {
	case LightTouchFullCost:
		r.FullCost = true
		add("light_touch", 0, "light-touch: the person declined a full financial assessment and pays the full cost")
		return r, nil
	case LightTouchNil:
		add("light_touch", 0, "light-touch: the person's benefits plainly show a nil contribution")
		return r, nil
	}
	limits, which := t.Capital, "capital limits"
	if t.CareAtHomeCapital != nil {
		limits, which = *t.CareAtHomeCapital, "capital limits for care at home"
	}
	for _, c := range f.Capital {
		if c.Type != "main_home" { // not counted for care at home
			r.CapitalCounted += c.Value
		}
	}
	add("capital_counted", r.CapitalCounted, "capital counted %s (the main home is not counted for care at home)", money.Format(r.CapitalCounted))
	if r.CapitalCounted > limits.Upper {
		r.FullCost = true
		add("full_cost", limits.Upper, "capital is above the upper limit of %s (%s): the person pays the full cost", money.Format(limits.Upper), which)
		return r, nil
	}
	r.Tariff = Tariff(r.CapitalCounted, limits, t.TariffStep, t.TariffPerStep)
	add("tariff_income", r.Tariff, "tariff income %s a week: %s for every %s or part above the lower limit of %s",
		money.Format(r.Tariff), money.Format(t.TariffPerStep), money.Format(t.TariffStep), money.Format(limits.Lower))

	for _, in := range f.Income {
		if disregarded[in.Type] {
			r.IncomeDisregarded += in.Weekly
			continue
		}
		part := min(max(0, in.Disregarded), in.Weekly)
		r.IncomeCounted += in.Weekly - part
		r.IncomeDisregarded += part
		if part > 0 {
			add("income_disregarded", part, "%s of %s %s a week disregarded: %s", money.Format(part), in.Type, money.Format(in.Weekly), in.DisregardReason)
		}
	}
	add("income_counted", r.IncomeCounted, "income counted %s a week (%s disregarded: earnings, the mobility components of DLA and PIP, and the partial disregards)",
		money.Format(r.IncomeCounted), money.Format(r.IncomeDisregarded))

	r.Steps = append(r.Steps, money.Step{Step: "pension_credit_age", Detail: pa.describe()})
	if err := r.addMIG(f, dob.AgeOn(f.EffectiveDate), pa.Reached, t); err != nil {
		return Result{}, err
	}
	r.Housing = f.HousingCosts
	add("housing_costs", r.Housing, "housing costs %s a week", money.Format(r.Housing))
	switch f.DREMethod {
	case "flat":
		if t.DREFlat == nil {
			return Result{}, ErrFlatDRENotSet
		}
		r.DRE = *t.DREFlat
		add("dre", r.DRE, "disability-related expenditure: the council's flat allowance of %s a week", money.Format(r.DRE))
	default:
		for _, d := range f.DRE {
			r.DRE += d.Weekly
		}
		add("dre", r.DRE, "disability-related expenditure assessed individually: %s a week", money.Format(r.DRE))
	}
	for _, o := range f.OtherAllowances {
		r.Other += o.Weekly
	}
	if r.Other > 0 {
		add("other_allowances", r.Other, "other allowances %s a week", money.Format(r.Other))
	}
	r.Available = r.IncomeCounted + r.Tariff - r.MIG - r.Housing - r.DRE - r.Other
	add("available_income", r.Available, "available income: %s + %s − %s − %s − %s − %s = %s",
		money.Format(r.IncomeCounted), money.Format(r.Tariff), money.Format(r.MIG), money.Format(r.Housing),
		money.Format(r.DRE), money.Format(r.Other), money.Format(r.Available))
	r.Assessed = Taper(r.Available, t.TaperPercent, rounding)
	add("taper", r.Assessed, "%d%% of the available income, %s: at most %s a week", t.TaperPercent, rounding.describe(), money.Format(r.Assessed))
	return r, nil
}

func (r *Result) addMIG(f Facts, age int, pensionAge bool, t RateTable) error {
	band, err := AgeBandFor(age, pensionAge)
	if err != nil {
		return err
	}
	missing := func(what string) error {
		return ErrMIGRateMissing.WithMessage("the rate table %q has no %s MIG rate; add it from the DHSC circular", t.Name, what)
	}
	var base *MIGBase
	for i, b := range t.MIG.Base {
		if b.Household == f.Household && b.AgeBand == band {
			base = &t.MIG.Base[i]
		}
	}
	if base == nil {
		return missing(string(f.Household) + " " + string(band))
	}
	part := func(name string, weekly int64, detail string) {
		r.MIG += weekly
		r.MIGParts = append(r.MIGParts, money.NewStep(name, weekly, detail+" "+money.Format(weekly)))
	}
	part("mig_base", base.Weekly, fmt.Sprintf("%s, %s:", f.Household, band))
	premiums := []struct {
		claimed bool
		rate    *int64
		name    string
		label   string
	}{
		{f.DisabilityPremium, t.MIG.DisabilityPremium, "disability_premium", "disability premium:"},
		{f.EnhancedDisabilityPremium, t.MIG.EnhancedDisabilityPremium, "enhanced_disability_premium", "enhanced disability premium:"},
		{f.CarerPremium, t.MIG.CarerPremium, "carer_premium", "carer premium:"},
	}
	for _, p := range premiums {
		if !p.claimed {
			continue
		}
		if p.rate == nil {
			return missing(p.name)
		}
		part(p.name, *p.rate, p.label)
	}
	if f.DependentChildren > 0 {
		if t.MIG.DependentChild == nil {
			return missing("dependent child")
		}
		part("dependent_children", int64(f.DependentChildren)**t.MIG.DependentChild,
			fmt.Sprintf("%d dependent children × %s:", f.DependentChildren, money.Format(*t.MIG.DependentChild)))
	}
	r.Steps = append(r.Steps, money.NewStep("mig", r.MIG, "Minimum Income Guarantee "+money.Format(r.MIG)+" a week"))
	return nil
}

// Charge is the weekly contribution to a weekly cost of care: the full cost when the person pays
// it, else the assessed charge capped at the cost; nothing when that is below the minimum charge.
func Charge(fullCost bool, assessed, minimum, weeklyCost int64) (int64, []money.Step) {
	var steps []money.Step
	charge := weeklyCost
	if fullCost {
		steps = append(steps, money.NewStep("full_cost", charge, "the person pays the full weekly cost of "+money.Format(weeklyCost)))
	} else {
		charge = min(assessed, weeklyCost)
		steps = append(steps, money.NewStep("cap_at_cost", charge,
			fmt.Sprintf("the lower of %s and the weekly cost of care %s: %s", money.Format(assessed), money.Format(weeklyCost), money.Format(charge))))
	}
	if charge < minimum {
		steps = append(steps, money.NewStep("minimum_charge", 0,
			fmt.Sprintf("%s is below the minimum charge of %s: nothing is charged", money.Format(charge), money.Format(minimum))))
		charge = 0
	}
	return charge, steps
}

// Contribution is what a budget needs of a completed financial assessment.
type Contribution struct {
	FinancialAssessmentID uuid.UUID
	RateTableID           uuid.UUID
	FullCost              bool
	Assessed              int64
	Minimum               int64
	// EffectiveFrom is the assessment's effective date: the day the contribution applies from
	// (a backdated one reprices the payments already made from then).
	EffectiveFrom date.Date
}
