package cld

import (
	"strings"

	"github.com/pbudget/pbudget/internal/assessment"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/review"
)

// Column is one data item of the return.
type Column struct {
	Item     string // the specification's data item name, as Release 1 writes it
	Recorded bool   // false when pbudget does not record it: the column is always blank
}

// Header is the column's name in the file: the item name with spaces replaced by underscores, as
// NHS England's tables and DOMAIN.md name them ("Cost Frequency (Unit Type)" →
// "Cost_Frequency_(Unit_Type)").
func (c Column) Header() string { return strings.ReplaceAll(c.Item, " ", "_") }

// The columns, in Release 1's order. The index constants below name them for the writer.
var Columns = []Column{
	{"LA Code", true}, {"Reporting Period Start Date", true}, {"Reporting Period End Date", true},
	{"NHS Number", true}, {"LA Person Unique Identifier", true},
	{"First Name", false}, {"Last Name", false}, // left blank by design: see the package doc
	{"GP Practice Name", false}, {"GP Practice Code", false},
	{"Gender", false}, {"Ethnicity", false}, {"Date of Birth", true}, {"Date of Death", false},
	{"Client Type", true}, {"Primary Support Reason", false}, {"Postcode", true},
	{"Accommodation Status", false}, {"Employment Status", false}, {"Has Unpaid Carer", false},
	{"Autism Spectrum Disorder (ASD)", false}, {"Visual Impairment", false}, {"Hearing Impairment", false},
	{"Dementia", false}, {"Client Funding Status", false},
	{"Event Type", true}, {"Event Reference", true}, {"Event Start Date", true}, {"Event End Date", true},
	{"Event Description", false}, {"Event Outcome", true}, {"Request: Route of Access", false},
	{"Assessment Type", true}, {"Eligible Needs Identified", true}, {"Method of Assessment", false},
	{"Total Hrs Caring per week", false}, {"No. of adults being cared for", false},
	{"Adult 1 Linked Person_ID", false}, {"Adult 2 Linked Person_ID", false}, {"Adult 3 Linked Person_ID", false},
	{"Service Type", true}, {"Service Component", true}, {"Delivery Mechanism", true},
	{"Provider CQC Location Name", false}, {"Provider CQC Location ID", false},
	{"Review Reason", true}, {"Review Outcomes Achieved", true}, {"Method of Review", false},
	{"Unit Cost", true}, {"Cost Frequency (Unit Type)", true}, {"Planned units per week", true},
}

// Indexes into Columns of the columns pbudget fills.
const (
	colLACode            = 0
	colPeriodStart       = 1
	colPeriodEnd         = 2
	colNHSNumber         = 3
	colPersonID          = 4
	colDateOfBirth       = 11
	colClientType        = 13
	colPostcode          = 15
	colEventType         = 24
	colEventReference    = 25
	colEventStart        = 26
	colEventEnd          = 27
	colEventOutcome      = 29
	colAssessmentType    = 31
	colEligibleNeeds     = 32
	colServiceType       = 39
	colServiceComponent  = 40
	colDeliveryMechanism = 41
	colReviewReason      = 44
	colReviewOutcomes    = 45
	colUnitCost          = 47
	colCostFrequency     = 48
	colPlannedUnits      = 49
)

// EventType is CLD's Event_Type.
type EventType string

// The event types pbudget reports (Request is the fourth; pbudget records no contacts).
const (
	EventAssessment EventType = "Assessment"
	EventService    EventType = "Service"
	EventReview     EventType = "Review"
)

// Client types.
const (
	ClientServiceUser = "Service User"
	ClientCarer       = "Carer"
)

// Delivery mechanisms (CLD guidance, Release 1: Direct Payment, CASSR Managed Personal Budget,
// CASSR Commissioned Support, Self-Funder Metering Only).
var deliveryMechanisms = map[plan.Option]string{
	plan.DirectPayment:  "Direct Payment",
	plan.CouncilManaged: "CASSR Managed Personal Budget",
	plan.ISF:            "CASSR Managed Personal Budget",
}

// DeliveryMechanismFor maps a line's management option; false for an unknown option.
func DeliveryMechanismFor(o plan.Option) (string, bool) {
	v, ok := deliveryMechanisms[o]
	return v, ok
}

// ServiceTypeFor maps a category's cld_service_type, for a carer's own service or a service
// user's; false when the category type has no CLD service type ("other").
func ServiceTypeFor(cldServiceType string, carer bool) (string, bool) {
	switch cldServiceType {
	case "long_term_community":
		return "Long Term Support: Community", true
	case "long_term_residential":
		return "Long Term Support: Residential Care", true
	case "long_term_nursing":
		return "Long Term Support: Nursing Care", true
	case "short_term":
		return "Short Term Support: Other Short Term", true // pbudget's choice: not reablement (ST-Max)
	case "equipment":
		return "Short Term Support: Ongoing Low Level", true // pbudget's choice: SALT counts equipment as ongoing low-level support
	case "carer_support":
		if carer {
			return "Carer Support: Direct to Carer", true
		}
		return "Carer Support: Support involving the person cared-for", true // a break bought in the cared-for person's plan
	}
	return "", false
}

// DefaultComponents maps the default catalogue's categories (plan.DefaultCategories) to
// Service_Component values that appear in NHS England's Release 1 checks. Categories not listed
// have no verified component: the council maps them (Config.Components), and until then their
// lines are reported as missing a service component.
func DefaultComponents() map[string]string {
	return map[string]string{
		"home_care":         "Home Support",
		"care_home_respite": "Short Term Residential Care",
		"carer_break":       "Carer Respite",
	}
}

// Cost frequencies (unverified spelling: DOMAIN.md's list, capitalised).
const (
	FreqHourly      = "Hourly"
	FreqDaily       = "Daily"
	FreqWeekly      = "Weekly"
	FreqFortnightly = "Fortnightly"
	Freq4Weekly     = "4-Weekly"
	FreqMonthly     = "Monthly"
	FreqQuarterly   = "Quarterly"
	FreqAnnually    = "Annually"
	FreqOneOff      = "One-off"
)

// byRecurrence is the frequency of a line's occurrences, for units CLD has no frequency for.
var byRecurrence = map[plan.Frequency]string{
	plan.PerWeek: FreqWeekly, plan.Per4Weeks: Freq4Weekly, plan.PerMonth: FreqMonthly, plan.PerYear: FreqAnnually, plan.Once: FreqOneOff,
}

// CostFrequencyFor says what a line's Unit_Cost is for. Hours, days, nights (a day's stay) and
// weeks are CLD frequencies: the unit cost is reported as it is. A session has none, so the line
// is reported per occurrence: the unit cost × the quantity, at the line's recurrence (perOccurrence
// is true). False for a unit or frequency pbudget does not know.
func CostFrequencyFor(unit plan.Unit, f plan.Frequency) (freq string, perOccurrence, ok bool) {
	switch unit {
	case "hour":
		return FreqHourly, false, true
	case "day", "night":
		return FreqDaily, false, true
	case "week":
		return FreqWeekly, false, true
	case "one_off":
		return FreqOneOff, false, true
	case "session":
		freq, ok := byRecurrence[f]
		return freq, true, ok
	}
	return "", false, false
}

// Assessment types.
const (
	AssessmentLongTerm = "Long Term Assessment" // eligibility for care and support decided (Care Act)
)

// assessmentTypes maps pbudget's assessments: each decides eligibility. Children's assessments
// are outside CLD.
var assessmentTypes = map[assessment.Type]string{
	assessment.NeedsType:    AssessmentLongTerm,
	assessment.CarerType:    AssessmentLongTerm,
	assessment.Reassessment: AssessmentLongTerm,
}

// Event outcomes used (spelling as NHS England's Release 1 code lists them).
const (
	OutcomeSupportPlanning = "Progress to Support Planning / Services"
	OutcomeInformationOnly = "NFA - Information & Advice / Signposting only"
	OutcomeNoChange        = "No change in package"
	OutcomeReassessment    = "Progress to Re-assessment / Unplanned Review"
	OutcomeSupportEnded    = "NFA - Support ended: Other reason"
)

var reviewOutcomes = map[review.Decision]string{
	review.DecisionNoChange:    OutcomeNoChange,
	review.DecisionRevisePlan:  OutcomeSupportPlanning,
	review.DecisionReassess:    OutcomeReassessment,
	review.DecisionEndServices: OutcomeSupportEnded,
}

// Review reasons (CLD guidance, Release 1, "Review reason").
var reviewReasons = map[review.Reason]string{
	review.ReasonPlanned:           "Planned",
	review.ReasonRequest:           "Unplanned - Other Reason",
	review.ReasonHospitalAdmission: "Unplanned - Hospital (Planned and unplanned episodes)",
	review.ReasonCarerBreakdown:    "Unplanned - Carer related",
	review.ReasonSafeguarding:      "Unplanned - Safeguarding concern",
	review.ReasonAuditConcern:      "Unplanned - Other Reason",
}

// Review outcomes achieved (CLD guidance, Release 1).
var achievements = map[review.Achievement]string{
	review.FullyMet: "Fully Met", review.PartiallyMet: "Partially Met", review.NotMet: "Not Met",
}
