package cld

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/assessment"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/money"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/review"
)

// Person is what the return says about the person an event belongs to.
type Person struct {
	ID          uuid.UUID // LA_Person_Unique_Identifier
	NHSNumber   string    // 10 digits; "" when the council has not recorded it
	DateOfBirth *date.Date
	Postcode    string
	Child       bool // a child (pbudget's person type): children are outside CLD and left out
}

// Assessment is a completed assessment.
type Assessment struct {
	ID        uuid.UUID
	Type      assessment.Type
	Started   date.Date // the day it was opened
	Completed date.Date
	Eligible  bool // the final decision, overrides included
}

// Service is a line of an approved plan.
type Service struct {
	Line plan.Line
	// SupersededFrom is the day a revision of the line's plan took effect, if one has: the line
	// ends the day before, and the revision's own line carries on from that day.
	SupersededFrom *date.Date
	Carer          bool // the line belongs to a carer's own plan
}

// Review is a completed review.
type Review struct {
	ID     uuid.UUID
	Record review.Record
	Carer  bool // a review of a carer's own plan
}

// Config is what a council's return needs besides the events.
type Config struct {
	LACode     string // the council's local authority code in CLD
	Quarter    Quarter
	Categories map[string]plan.Category // the council's catalogue, by key
	Components map[string]string        // Service_Component by category key (DefaultComponents and the council's own)
}

// ErrLACode is a council without a local authority code.
var ErrLACode = apperr.New(apperr.RuleViolation, "cld-la-code-missing",
	"the council has no local authority code for NHS England's client-level data: set it before exporting")

// Summary counts what a return holds.
type Summary struct {
	Quarter     Quarter
	Rows        map[EventType]int
	Issues      map[string]int // by issue code
	Skipped     map[string]int // events left out, by reason
	NotRecorded []string       // headers of the columns pbudget always leaves blank
}

// Reasons an event is left out.
const (
	SkippedChild          = "child"           // children are outside adult social care data
	SkippedOutsideQuarter = "outside_quarter" // completed, held or in force outside the quarter
)

// Writer streams a return: one CSV row per event, written as it comes, and one line of the
// validation report per problem found. Memory does not grow with the number of events. Give each
// person's events together: a person's own problems (a missing NHS number …) are reported once per
// run of their events.
type Writer struct {
	c       Config
	data    *bufio.Writer
	csv     *csv.Writer
	issues  *issueWriter
	row     []string
	start   string // the quarter's first and last days, formatted once
	last    string
	person  uuid.UUID
	summary Summary
	err     error
}

// NewWriter checks the configuration and writes the header rows of the return to data and of the
// validation report to issues.
func NewWriter(data, issues io.Writer, c Config) (*Writer, error) {
	if strings.TrimSpace(c.LACode) == "" {
		return nil, ErrLACode
	}
	if _, err := NewQuarter(c.Quarter.Year, c.Quarter.Q); err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(data, 64<<10)
	w := &Writer{c: c, data: bw, csv: csv.NewWriter(bw), issues: newIssueWriter(issues), row: make([]string, len(Columns)),
		start: c.Quarter.Start().String(), last: c.Quarter.Last().String(),
		summary: Summary{Quarter: c.Quarter, Rows: map[EventType]int{}, Issues: map[string]int{}, Skipped: map[string]int{}}}
	header := make([]string, len(Columns))
	for i, col := range Columns {
		header[i] = col.Header()
		if !col.Recorded {
			w.summary.NotRecorded = append(w.summary.NotRecorded, col.Header())
		}
	}
	w.err = w.csv.Write(header)
	if w.err == nil {
		w.err = w.issues.header()
	}
	return w, w.err
}

// Assessment writes a completed assessment, if it was completed in the quarter.
func (w *Writer) Assessment(p Person, a Assessment) error {
	if w.err != nil {
		return w.err
	}
	if p.Child || a.Type == assessment.ChildType {
		w.summary.Skipped[SkippedChild]++
		return nil
	}
	if !w.c.Quarter.Contains(a.Completed) {
		w.summary.Skipped[SkippedOutsideQuarter]++
		return nil
	}
	ref := "ASM-" + a.ID.String()
	w.begin(p, EventAssessment, ref, a.ID, clientType(a.Type == assessment.CarerType))
	w.row[colEventStart], w.row[colEventEnd] = a.Started.String(), a.Completed.String()
	if t, ok := assessmentTypes[a.Type]; ok {
		w.row[colAssessmentType] = t
	} else {
		w.issue("unknown-assessment-type", colAssessmentType, fmt.Sprintf("pbudget's assessment type %q has no CLD assessment type", a.Type))
	}
	if a.Eligible {
		w.row[colEligibleNeeds], w.row[colEventOutcome] = "Yes", OutcomeSupportPlanning
	} else {
		w.row[colEligibleNeeds], w.row[colEventOutcome] = "No", OutcomeInformationOnly
	}
	return w.end(EventAssessment)
}

// Service writes a plan line if it is in force on at least one day of the quarter.
func (w *Writer) Service(p Person, s Service) error {
	if w.err != nil {
		return w.err
	}
	if p.Child {
		w.summary.Skipped[SkippedChild]++
		return nil
	}
	l := s.Line
	end := l.End // exclusive
	if s.SupersededFrom != nil && s.SupersededFrom.Before(end) {
		end = *s.SupersededFrom
	}
	q := w.c.Quarter
	if !l.Start.Before(end) || !l.Start.Before(q.End()) || !end.After(q.Start()) {
		w.summary.Skipped[SkippedOutsideQuarter]++
		return nil
	}
	ref := "SRV-" + l.ID.String()
	w.begin(p, EventService, ref, l.ID, clientType(s.Carer))
	w.row[colEventStart] = l.Start.String()
	if !end.After(q.End()) {
		w.row[colEventEnd] = end.AddDays(-1).String() // its last day is in the quarter; otherwise it is open
	}
	w.serviceType(l, s.Carer)
	if m, ok := DeliveryMechanismFor(l.Option); ok {
		w.row[colDeliveryMechanism] = m
	} else {
		w.issue("unknown-management-option", colDeliveryMechanism, fmt.Sprintf("the line's management option %q has no CLD delivery mechanism", l.Option))
	}
	w.cost(l)
	return w.end(EventService)
}

// serviceType fills Service_Type and Service_Component from the line's category.
func (w *Writer) serviceType(l plan.Line, carer bool) {
	cat, ok := w.c.Categories[l.Category]
	if !ok {
		w.issue("unknown-service-category", colServiceType, fmt.Sprintf("the line's category %q is not in the council's catalogue", l.Category))
		return
	}
	if t, ok := ServiceTypeFor(cat.CLDServiceType, carer); ok {
		w.row[colServiceType] = t
	} else {
		w.issue("service-type-unmapped", colServiceType,
			fmt.Sprintf("category %q reports as cld_service_type %q, which has no CLD service type: choose another cld_service_type for the category", cat.Key, cat.CLDServiceType))
	}
	if c, ok := w.c.Components[cat.Key]; ok && c != "" {
		w.row[colServiceComponent] = c
	} else {
		w.issue("missing-service-component", colServiceComponent,
			fmt.Sprintf("category %q has no CLD service component: map it to one of the specification's components", cat.Key))
	}
}

// cost fills Unit_Cost, Cost_Frequency_(Unit_Type) and Planned_units_per_week.
func (w *Writer) cost(l plan.Line) {
	freq, perOccurrence, ok := CostFrequencyFor(l.Unit, l.Frequency)
	if !ok {
		w.issue("cost-frequency-unmapped", colCostFrequency, fmt.Sprintf("a line costed per %q %s has no CLD cost frequency", l.Unit, l.Frequency))
		return
	}
	unitCost := l.UnitCost
	if perOccurrence {
		unitCost = money.DivRound(l.UnitCost*int64(l.Quantity), 100) // quantity is in hundredths
	}
	w.row[colUnitCost], w.row[colCostFrequency] = hundredths(unitCost), freq // pence as pounds, exactly
	if freq == FreqHourly || freq == FreqDaily {
		w.row[colPlannedUnits] = hundredths(unitsPerWeek(l))
	}
}

// unitsPerWeek is the line's planned units a week, in hundredths: its quantity × times a year ÷
// 52, or for a one-off, spread over the weeks the line runs.
func unitsPerWeek(l plan.Line) int64 {
	q := int64(l.Quantity)
	switch l.Frequency {
	case plan.PerWeek:
		return q
	case plan.Per4Weeks:
		return money.DivRound(q*13, 52)
	case plan.PerMonth:
		return money.DivRound(q*12, 52)
	case plan.PerYear:
		return money.DivRound(q, 52)
	}
	return money.DivRound(q*7, int64(max(1, l.End.DaysSince(l.Start))))
}

// Review writes a completed review, if it was held in the quarter.
func (w *Writer) Review(p Person, r Review) error {
	if w.err != nil {
		return w.err
	}
	if p.Child {
		w.summary.Skipped[SkippedChild]++
		return nil
	}
	rec := r.Record
	if !w.c.Quarter.Contains(rec.Date) {
		w.summary.Skipped[SkippedOutsideQuarter]++
		return nil
	}
	ref := "REV-" + r.ID.String()
	w.begin(p, EventReview, ref, r.ID, clientType(r.Carer))
	w.row[colEventStart], w.row[colEventEnd] = rec.Date.String(), rec.Date.String()
	w.row[colEventOutcome] = reviewOutcomes[rec.Decision]
	w.row[colReviewReason] = reviewReasons[rec.Reason]
	if a, ok := achievements[rec.Achievement()]; ok {
		w.row[colReviewOutcomes] = a
	} else if rec.Reason == review.ReasonPlanned {
		w.issue("missing-review-outcomes", colReviewOutcomes, "a planned review reports whether the plan's outcomes were met: the plan has no outcomes rated")
	}
	return w.end(EventReview)
}

// Close flushes the return and the report and returns what they hold.
func (w *Writer) Close() (Summary, error) {
	if w.err != nil {
		return w.summary, w.err
	}
	w.csv.Flush()
	if w.err = w.csv.Error(); w.err == nil {
		w.err = w.data.Flush()
	}
	if w.err == nil {
		w.err = w.issues.flush()
	}
	return w.summary, w.err
}

// current is the row being written, for the issues it raises.
type current struct {
	event  EventType
	ref    string
	record uuid.UUID
	person uuid.UUID
}

// begin starts a row with the person's and the event's columns, and reports the person's missing
// details on the first row of a run of their events.
func (w *Writer) begin(p Person, t EventType, ref string, record uuid.UUID, client string) {
	clear(w.row)
	w.issues.cur = current{event: t, ref: ref, record: record, person: p.ID}
	w.row[colLACode], w.row[colPeriodStart], w.row[colPeriodEnd] = w.c.LACode, w.start, w.last
	w.row[colNHSNumber], w.row[colPersonID], w.row[colPostcode] = p.NHSNumber, p.ID.String(), p.Postcode
	if p.DateOfBirth != nil {
		w.row[colDateOfBirth] = p.DateOfBirth.String()
	}
	w.row[colClientType], w.row[colEventType], w.row[colEventReference] = client, string(t), ref
	if p.ID == w.person {
		return
	}
	w.person = p.ID
	if p.NHSNumber == "" {
		w.issue("missing-nhs-number", colNHSNumber, "the person has no NHS number: trace it (the Personal Demographics Service) and record it")
	}
	if p.DateOfBirth == nil {
		w.issue("missing-date-of-birth", colDateOfBirth, "the person has no date of birth")
	}
	if strings.TrimSpace(p.Postcode) == "" {
		w.issue("missing-postcode", colPostcode, "the person has no postcode")
	}
}

func (w *Writer) end(t EventType) error {
	if w.err = w.csv.Write(w.row); w.err == nil {
		w.err = w.issues.err
	}
	if w.err == nil {
		w.summary.Rows[t]++
	}
	return w.err
}

func (w *Writer) issue(code string, col int, message string) {
	w.summary.Issues[code]++
	w.issues.write(code, Columns[col].Header(), message)
}

func clientType(carer bool) string {
	if carer {
		return ClientCarer
	}
	return ClientServiceUser
}

// hundredths renders n/100 with two decimals, exactly: pence as pounds (1234 → "12.34"), or
// hundredths of a unit (692 → "6.92").
func hundredths(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	frac := strconv.FormatInt(100+n%100, 10)[1:]
	return sign + strconv.FormatInt(n/100, 10) + "." + frac
}

// IssueCodes lists the codes the validation report uses, for documentation and filters.
var IssueCodes = []string{
	"missing-nhs-number", "missing-date-of-birth", "missing-postcode",
	"unknown-service-category", "service-type-unmapped", "missing-service-component",
	"unknown-management-option", "cost-frequency-unmapped", "unknown-assessment-type", "missing-review-outcomes",
}

// issueWriter writes the validation report: one row per problem, naming the event and records
// by reference, never the person's details.
type issueWriter struct {
	csv *csv.Writer
	cur current
	err error
}

// IssueHeader is the validation report's header.
var IssueHeader = []string{"Code", "Event_Type", "Event_Reference", "LA_Person_Unique_Identifier", "Record_ID", "Column", "Message"}

func newIssueWriter(w io.Writer) *issueWriter { return &issueWriter{csv: csv.NewWriter(w)} }

func (iw *issueWriter) header() error { return iw.csv.Write(slices.Clone(IssueHeader)) }

func (iw *issueWriter) write(code, column, message string) {
	if iw.err == nil {
		iw.err = iw.csv.Write([]string{code, string(iw.cur.event), iw.cur.ref, iw.cur.person.String(), iw.cur.record.String(), column, message})
	}
}

func (iw *issueWriter) flush() error {
	iw.csv.Flush()
	if iw.err == nil {
		iw.err = iw.csv.Error()
	}
	return iw.err
}
