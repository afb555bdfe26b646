package dpfinance

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/access"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/dpaudit"
	"github.com/pbudget/pbudget/internal/letter"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/reason"
	"github.com/pbudget/pbudget/internal/recovery"
)

// The audits' own errors.
var (
	ErrNoFirstPayment = apperr.New(apperr.Conflict, "audit-no-first-payment",
		"the direct payment has not been paid yet: an account is audited from its first payment")
	ErrNotConcluded = apperr.New(apperr.Conflict, "audit-not-concluded", "the audit has no outcome yet: its letter follows its conclusion")
)

// LetterFilePrefix begins an audit letter's file name, before the agreement's id.
const LetterFilePrefix = "direct-payment-"

// Schedule creates the scheduled audits that have fallen due in every council (the hourly
// periodic job): for each direct payment with a first payment, every period
// dpaudit.Settings.ScheduledThrough lists up to today, once (a unique key per agreement and
// period start). It returns how many audits it created.
func (s *Service) Schedule(ctx context.Context) (int, error) {
	councils, err := s.d.Store.Councils(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, c := range councils {
		n, err := s.ScheduleCouncil(ctx, c)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// ScheduleCouncil creates one council's scheduled audits that have fallen due.
func (s *Service) ScheduleCouncil(ctx context.Context, councilID uuid.UUID) (int, error) {
	n := 0
	err := s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		set, err := s.settings(ctx, councilID)
		if err != nil {
			return err
		}
		ags, err := s.d.Store.DPAgreementsPaid(ctx, councilID)
		if err != nil {
			return err
		}
		today, now := s.today(), s.stamp()
		var as []Audit
		for _, ag := range ags {
			if ag.FirstPayment == nil {
				continue
			}
			for _, p := range set.Audit.ScheduledThrough(*ag.FirstPayment, ag.End, today) {
				as = append(as, Audit{CouncilID: councilID, ID: uuid.Must(uuid.NewV7()), AgreementID: ag.ID, PersonID: ag.PersonID, Kind: "scheduled",
					Period: p, Due: p.Due(), State: dpaudit.Planned, CreatedBy: "system", CreatedAt: now, UpdatedAt: now, Version: 1})
			}
		}
		if len(as) == 0 {
			return nil
		}
		n, err = s.d.Store.InsertAudits(ctx, as)
		if err != nil || n == 0 {
			return err
		}
		return s.d.Audit.Record(ctx, actor.Actor{Subject: "system", CouncilID: councilID}, audit.Event{Action: "dp_audit.scheduled",
			EntityType: "council", EntityID: councilID, ChangedFields: []string{"dp_audits"},
			Details: map[string]any{"created": n, "through": today.String(), "first_audit_weeks": set.Audit.FirstAuditWeeks}})
	})
	return n, err
}

// CreateAdHoc opens an audit on a concern raised on concern (default today), with a reason.
func (s *Service) CreateAdHoc(ctx context.Context, a actor.Actor, agreementID uuid.UUID, concern *date.Date, why string) (Audit, error) {
	var out Audit
	err := s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		on := s.today()
		if concern != nil {
			if concern.After(on) {
				return apperr.Validation(apperr.FieldError{Field: "/concern_on", In: "body", Code: "in_future", Message: "a concern is recorded once raised: the day cannot be after today"})
			}
			on = *concern
		}
		r, err := reason.Require("/reason", why)
		if err != nil {
			return err
		}
		ag, err := s.d.Store.DPAgreement(ctx, a.CouncilID, agreementID, true)
		if err != nil {
			return err
		}
		if ag.FirstPayment == nil {
			return ErrNoFirstPayment
		}
		set, err := s.settings(ctx, a.CouncilID)
		if err != nil {
			return err
		}
		p, err := set.Audit.AdHoc(*ag.FirstPayment, on)
		if err != nil {
			return err
		}
		now := s.stamp()
		out = Audit{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), AgreementID: ag.ID, PersonID: ag.PersonID, Kind: "ad_hoc", Period: p,
			Due: on, State: dpaudit.Planned, ConcernReason: &r, CreatedBy: a.Subject, CreatedAt: now, UpdatedAt: now, Version: 1}
		if _, err := s.d.Store.InsertAudits(ctx, []Audit{out}); err != nil {
			return err
		}
		return s.d.Audit.Record(ctx, a, audit.Event{Action: "dp_audit.opened", EntityType: "dp_audit", EntityID: out.ID,
			ChangedFields: []string{"state"}, Reason: r,
			Details: map[string]any{"agreement_id": ag.ID.String(), "period_start": p.Start.String(), "period_end": p.End.String(), "kind": "ad_hoc"}})
	})
	return out, err
}

// GetAudit returns an audit.
func (s *Service) GetAudit(ctx context.Context, a actor.Actor, id uuid.UUID) (Audit, error) {
	return s.d.Store.GetAudit(ctx, a.CouncilID, id, false)
}

// ListAudits lists audits or a work list.
func (s *Service) ListAudits(ctx context.Context, a actor.Actor, f AuditFilter) ([]Audit, dpaudit.Settings, error) {
	set, err := s.settings(ctx, a.CouncilID)
	if err != nil {
		return nil, dpaudit.Settings{}, err
	}
	as, err := s.d.Store.ListAudits(ctx, a.CouncilID, f, s.today(), set.Audit)
	return as, set.Audit, err
}

// AuditSettings are the council's audit settings.
func (s *Service) AuditSettings(ctx context.Context, councilID uuid.UUID) (dpaudit.Settings, error) {
	set, err := s.settings(ctx, councilID)
	return set.Audit, err
}

// AuditStep is what an action on an audit carries.
type AuditStep struct {
	Event            dpaudit.Event
	On               *date.Date
	Items            []dpaudit.EvidenceItem
	StatementClosing *int64
	Liabilities      []dpaudit.Liability
	Outcome          *dpaudit.Outcome
	Reason           string
}

// ActOnAudit applies an action to an audit under its version (If-Match).
func (s *Service) ActOnAudit(ctx context.Context, a actor.Actor, id uuid.UUID, version int, st AuditStep) (Audit, error) {
	var out Audit
	err := s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		au, err := s.d.Store.GetAudit(ctx, a.CouncilID, id, true)
		if err != nil {
			return err
		}
		if au.Version != version {
			return apperr.ErrVersionMismatch
		}
		set, err := s.settings(ctx, a.CouncilID)
		if err != nil {
			return err
		}
		on := s.today()
		if st.On != nil {
			if st.On.After(on) {
				return apperr.Validation(apperr.FieldError{Field: "/on", In: "body", Code: "in_future", Message: "the day cannot be after today"})
			}
			on = *st.On
		}
		var evDue date.Date
		if au.EvidenceDue != nil {
			evDue = *au.EvidenceDue
		}
		to, step, err := set.Audit.Apply(au.State, st.Event, dpaudit.Step{On: on, Items: st.Items, Reason: st.Reason, Outcome: st.Outcome}, evDue)
		if err != nil {
			return err
		}
		details := map[string]any{"from": string(au.State), "to": string(to), "on": on.String(), "agreement_id": au.AgreementID.String()}
		why := ""
		switch st.Event {
		case dpaudit.RequestEvidence:
			rs := make([]EvidenceRequest, len(step.Items))
			for i, it := range step.Items {
				if d := strings.TrimSpace(it.Description); d == "" || len([]rune(d)) > 500 {
					return apperr.Validation(apperr.FieldError{Field: fmt.Sprintf("/items/%d/description", i), In: "body", Code: "required",
						Message: "say what is asked for (1 to 500 characters)"})
				}
				it.Description = strings.TrimSpace(it.Description)
				rs[i] = EvidenceRequest{ID: uuid.Must(uuid.NewV7()), Item: it, RequestedOn: on, Due: step.EvidenceDue}
			}
			if err := s.d.Store.InsertEvidenceRequests(ctx, a.CouncilID, au.ID, rs); err != nil {
				return err
			}
			au.EvidenceDue = &step.EvidenceDue
			details["items"] = len(rs)
			details["evidence_due"] = step.EvidenceDue.String()
		case dpaudit.ReceiveEvidence:
			if err := s.d.Store.ReceiveEvidence(ctx, a.CouncilID, au.ID, on); err != nil {
				return err
			}
		case dpaudit.Reconcile:
			if err := s.reconcile(ctx, &au, set, st); err != nil {
				return err
			}
			for _, step := range au.Reconciliation.Steps {
				details[step.Step+"_pence"] = step.Value
			}
			for _, step := range au.Surplus.Steps {
				details["surplus_"+step.Step+"_pence"] = step.Value
			}
			details["contingency_weeks"] = set.Audit.ContingencyWeeks
			details["misspend_pence"], details["misspend_council_share_pence"] = au.Misspend, au.MisspendCouncil
			details["findings"] = len(au.Findings)
		case dpaudit.Conclude:
			o := *step.Outcome
			au.Outcome, au.ConcludedOn, why = &o, &on, o.Reason
			details["outcome"] = string(o.Kind)
			if au.Surplus != nil {
				details["surplus_pence"], details["council_share_pence"], details["person_share_pence"] = au.Surplus.Surplus, au.Surplus.CouncilShare, au.Surplus.PersonShare
			}
			if err := s.carryOut(ctx, a, au, o); err != nil {
				return err
			}
		case dpaudit.Cancel:
			au.CancelReason, why = &step.Reason, step.Reason
		}
		au.State, au.UpdatedAt, au.Version = to, s.stamp(), au.Version+1
		if err := s.d.Store.UpdateAudit(ctx, au); err != nil {
			return err
		}
		if err := s.d.Audit.Record(ctx, a, audit.Event{Action: "dp_audit." + string(st.Event), EntityType: "dp_audit", EntityID: au.ID,
			ChangedFields: []string{"state"}, Reason: why, Details: details}); err != nil {
			return err
		}
		if st.Event != dpaudit.RequestEvidence && st.Event != dpaudit.ReceiveEvidence {
			out = au // as written: only the evidence rows changed behind it
			return nil
		}
		out, err = s.d.Store.GetAudit(ctx, a.CouncilID, au.ID, false)
		return err
	})
	return out, err
}

// reconcile computes the period's reconciliation from the ledger, the findings, the misspend and
// the surplus, and records them on the audit (the figures the decision will use).
func (s *Service) reconcile(ctx context.Context, au *Audit, set Settings, st AuditStep) error {
	ag, err := s.d.Store.DPAgreement(ctx, au.CouncilID, au.AgreementID, false)
	if err != nil {
		return err
	}
	led, err := s.d.Store.Ledger(ctx, au.CouncilID, au.AgreementID, au.Period)
	if err != nil {
		return err
	}
	if st.StatementClosing == nil {
		st.StatementClosing = led.StatementClosing // the auditor's figure wins; else the statement's
	}
	rec, err := dpaudit.ReconcilePeriod(dpaudit.ReconcileInput{Period: au.Period, Opening: led.Opening, Entries: led.Entries, StatementClosing: st.StatementClosing})
	if err != nil {
		return err
	}
	for i, l := range st.Liabilities {
		if d := strings.TrimSpace(l.Description); d == "" {
			return apperr.Validation(apperr.FieldError{Field: fmt.Sprintf("/liabilities/%d/description", i), In: "body", Code: "required", Message: "say what the liability is"})
		}
	}
	sur, err := dpaudit.ComputeSurplus(dpaudit.SurplusInput{Closing: rec.Closing(), Liabilities: st.Liabilities, WeeklyPayment: ag.Weekly(),
		ContingencyWeeks: set.Audit.ContingencyWeeks, ContributionsReceived: rec.ContributionsReceived, CouncilPayments: rec.CouncilPayments})
	if err != nil {
		return err
	}
	au.StatementClosing, au.Reconciliation, au.Surplus = st.StatementClosing, &rec, &sur
	au.Liabilities = append([]dpaudit.Liability{}, st.Liabilities...)
	pa, err := s.d.Store.PAEvidence(ctx, au.CouncilID, au.AgreementID)
	if err != nil {
		return err
	}
	assistants := dpaudit.Assistants(pa.Assistants, dpaudit.RequiredPAEvidence(pa.PersonBorn, au.Period), pa.Items)
	au.Findings = dpaudit.Findings(dpaudit.FindingsInput{Period: au.Period, Flagged: led.Flagged, Reconciliation: rec, Assistants: assistants})
	au.Misspend = dpaudit.MisspendTotal(led.Flagged)
	// Excluded-category and out-of-plan spending not accepted or evidenced counts as misspent too.
	var unaccepted int64
	for _, f := range au.Findings {
		if f.Type == dpaudit.ExcludedCategorySpend || f.Type == dpaudit.SpendOutsidePlan {
			unaccepted += f.Amount
		}
	}
	au.Misspend = max(au.Misspend, unaccepted)
	_, au.MisspendCouncil = dpaudit.Shares(au.Misspend, rec.ContributionsReceived, rec.CouncilPayments)
	return nil
}

// carryOut does what an outcome decides through the payments: suspend_payments suspends the
// agreement from the day given, terminate ends it after the notice.
func (s *Service) carryOut(ctx context.Context, a actor.Actor, au Audit, o dpaudit.Outcome) error {
	if s.d.Payments == nil || (o.Kind != dpaudit.SuspendPayments && o.Kind != dpaudit.Terminate) {
		return nil
	}
	ag, err := s.d.Store.DPAgreement(ctx, au.CouncilID, au.AgreementID, true)
	if err != nil {
		return err
	}
	why := "audit outcome: " + o.Reason
	if o.Kind == dpaudit.SuspendPayments {
		_, err = s.d.Payments.Suspend(ctx, a, payment.DirectPaymentKind, ag.ID, ag.Version, o.SuspendFrom, why)
		return err
	}
	if ag.End != nil && !ag.End.After(o.Ends) {
		return nil // ends sooner already
	}
	_, err = s.d.Payments.End(ctx, a, payment.DirectPaymentKind, ag.ID, ag.Version, o.Ends, why)
	return err
}

// Letter renders the audit's letter to the person as PDF, with its Content-Disposition (the file
// is named after the agreement and the audit).
func (s *Service) Letter(ctx context.Context, a actor.Actor, id uuid.UUID) ([]byte, string, error) {
	au, err := s.d.Store.GetAudit(ctx, a.CouncilID, id, false)
	if err != nil {
		return nil, "", err
	}
	if au.Outcome == nil || au.Reconciliation == nil {
		return nil, "", ErrNotConcluded
	}
	name, err := s.d.Store.CouncilName(ctx, a.CouncilID)
	if err != nil {
		return nil, "", err
	}
	in := letter.AuditInput{Council: name, Date: *au.ConcludedOn, Reference: "DP audit " + au.ID.String()[:8], Period: au.Period,
		Outcome: *au.Outcome, Reconciliation: *au.Reconciliation, Surplus: au.Surplus, Findings: au.Findings,
		Footer: name + ": direct payments team"}
	rs, err := s.d.Store.ListRecoveries(ctx, a.CouncilID, &au.AgreementID, "", page.Request{})
	if err != nil {
		return nil, "", err
	}
	for _, r := range rs {
		if r.AuditID == nil || *r.AuditID != au.ID || r.State.State == recovery.WrittenOff {
			continue
		}
		ar := &letter.AuditRecovery{Proposal: r.Proposal}
		switch r.Proposal.Method {
		case recovery.Offset:
			per := PlannedOffsets(r, nil)
			ar.Offsets = &recovery.Offsets{PerCycle: per}
		case recovery.Invoice:
			ar.Due = r.State.InvoiceDue
			if ar.Due == (date.Date{}) {
				ar.Due = recovery.InvoiceDue(*au.ConcludedOn)
			}
		default:
			ar.Due = r.State.NoticeDate
			if ar.Due == (date.Date{}) {
				ar.Due = *au.ConcludedOn
			}
		}
		in.Recovery = ar
		break
	}
	l, err := letter.Audit(in)
	if err != nil {
		return nil, "", err
	}
	pdf, err := letter.Render(l)
	if err != nil {
		return nil, "", err
	}
	access.NoteSubject(ctx, au.PersonID)
	return pdf, fmt.Sprintf("attachment; filename=\"%s%s-audit-%s.pdf\"", LetterFilePrefix, au.AgreementID, au.ID), nil
}
