package dpfinance

import (
	"context"
	"sort"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/isf"
	"github.com/pbudget/pbudget/internal/reason"
)

// The ISF statements' own errors.
var (
	ErrPeriodFiled = apperr.New(apperr.Conflict, "isf-statement-period-filed",
		"the period already has a statement: a queried one may be replaced, a submitted or accepted one may not")
	ErrDecided = apperr.New(apperr.Conflict, "isf-statement-decided", "the statement has been accepted or queried already")
)

// reach is the provider's reach: provider staff see only their own ISFs (404 otherwise).
func reach(a actor.Actor, providerID uuid.UUID) error {
	if a.IsProviderOnly() && *a.ProviderID != providerID {
		return apperr.ErrNotFound
	}
	return nil
}

// live are a history's statements that count (submitted or accepted), in period order.
func live(sts []ISFStatement) []isf.Statement {
	var out []isf.Statement
	for _, st := range sts {
		if st.Status != "queried" {
			out = append(out, st.Statement)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Period.Start.Before(out[j].Period.Start) })
	return out
}

// FileStatement checks and stores a provider's statement (the provider's staff only: the route's
// role). The agreement's row is locked, so two submissions cannot chain from the same closing.
func (s *Service) FileStatement(ctx context.Context, a actor.Actor, agreementID uuid.UUID, st isf.Statement) (ISFStatement, error) {
	var out ISFStatement
	err := s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		ag, err := s.d.Store.ISFAgreement(ctx, a.CouncilID, agreementID, true)
		if err != nil {
			return err
		}
		if err := reach(a, ag.ProviderID); err != nil {
			return err
		}
		hist, err := s.d.Store.ISFStatements(ctx, a.CouncilID, []uuid.UUID{ag.ID})
		if err != nil {
			return err
		}
		in := isf.CheckInput{Start: ag.Start, End: ag.End, Frequency: ag.Frequency, PlanLines: ag.PlanLines}
		var prev *isf.Statement
		for _, l := range live(hist[ag.ID]) {
			if l.Period.Start.Equal(st.Period.Start) {
				return ErrPeriodFiled.WithMessage("the period from %s already has a statement", st.Period.Start)
			}
			if l.Period.Start.Before(st.Period.Start) {
				l := l
				prev = &l
			}
		}
		in.Previous = prev
		if err := isf.Check(st, in); err != nil {
			return err
		}
		out = ISFStatement{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), AgreementID: ag.ID, ProviderID: ag.ProviderID, PersonID: ag.PersonID,
			Statement: st, Status: "submitted", SubmittedBy: a.Subject, CreatedAt: s.stamp(), Version: 1}
		if err := s.d.Store.InsertISFStatement(ctx, out); err != nil {
			return err
		}
		return s.d.Audit.Record(ctx, a, audit.Event{Action: "isf_statement.submitted", EntityType: "isf_statement", EntityID: out.ID,
			ChangedFields: []string{"period", "opening_balance", "received", "lines", "closing_balance"},
			Details: map[string]any{"isf_agreement_id": ag.ID.String(), "period_start": st.Period.Start.String(), "period_end": st.Period.End.String(),
				"opening_pence": st.Opening, "from_council_pence": st.FromCouncil, "from_person_pence": st.FromPerson, "spent_pence": st.Spent(),
				"closing_pence": st.Closing, "line_count": len(st.Lines)}})
	})
	return out, err
}

// Statements lists an ISF's statements in period order.
func (s *Service) Statements(ctx context.Context, a actor.Actor, agreementID uuid.UUID) ([]ISFStatement, error) {
	ag, err := s.d.Store.ISFAgreement(ctx, a.CouncilID, agreementID, false)
	if err != nil {
		return nil, err
	}
	if err := reach(a, ag.ProviderID); err != nil {
		return nil, err
	}
	m, err := s.d.Store.ISFStatements(ctx, a.CouncilID, []uuid.UUID{ag.ID})
	return m[ag.ID], err
}

// Statement returns one statement.
func (s *Service) Statement(ctx context.Context, a actor.Actor, id uuid.UUID) (ISFStatement, error) {
	st, err := s.d.Store.GetISFStatement(ctx, a.CouncilID, id, false)
	if err != nil {
		return ISFStatement{}, err
	}
	if err := reach(a, st.ProviderID); err != nil {
		return ISFStatement{}, err
	}
	return st, nil
}

// Decide accepts (accept true) or queries a submitted statement, with a written reason.
func (s *Service) Decide(ctx context.Context, a actor.Actor, id uuid.UUID, accept bool, why string) (ISFStatement, error) {
	var out ISFStatement
	err := s.d.Tx.WithinTx(ctx, func(ctx context.Context) error {
		st, err := s.d.Store.GetISFStatement(ctx, a.CouncilID, id, true)
		if err != nil {
			return err
		}
		if err := reach(a, st.ProviderID); err != nil {
			return err
		}
		if st.Status != "submitted" {
			return ErrDecided.WithMessage("the statement is %s already", st.Status)
		}
		r, err := reason.Require("/reason", why)
		if err != nil {
			return err
		}
		now := s.stamp()
		st.Status, st.DecisionReason, st.DecidedBy, st.DecidedAt, st.Version = "queried", &r, &a.Subject, &now, st.Version+1
		if accept {
			st.Status = "accepted"
		}
		if err := s.d.Store.DecideISFStatement(ctx, st); err != nil {
			return err
		}
		out = st
		return s.d.Audit.Record(ctx, a, audit.Event{Action: "isf_statement." + st.Status, EntityType: "isf_statement", EntityID: st.ID,
			ChangedFields: []string{"status", "decision_reason"}, Reason: r,
			Details: map[string]any{"isf_agreement_id": st.AgreementID.String(), "period_start": st.Statement.Period.Start.String(),
				"closing_pence": st.Statement.Closing}})
	})
	return out, err
}

// WorkItem is an overdue statement or a flagged balance.
type WorkItem struct {
	Agreement ISFAgreement
	Period    *isf.Period
	Due       *date.Date
	Flag      *isf.Flag
}

// ISFWorklist lists overdue statements, or (flagged) the ISFs whose balance is flagged for
// recovery by Dorset's rule.
func (s *Service) ISFWorklist(ctx context.Context, a actor.Actor, flagged bool) ([]WorkItem, error) {
	set, err := s.settings(ctx, a.CouncilID)
	if err != nil {
		return nil, err
	}
	ags, err := s.d.Store.ISFAgreements(ctx, a.CouncilID)
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, len(ags))
	for i := range ags {
		ids[i] = ags[i].ID
	}
	hist, err := s.d.Store.ISFStatements(ctx, a.CouncilID, ids)
	if err != nil {
		return nil, err
	}
	today := s.today()
	var out []WorkItem
	for _, ag := range ags {
		sts := live(hist[ag.ID])
		if flagged {
			if len(sts) == 0 {
				continue
			}
			if f := set.ISF.SurplusFlag(sts, ag.Weekly()); f != nil {
				out = append(out, WorkItem{Agreement: ag, Flag: f})
			}
			continue
		}
		filed := make([]isf.Period, len(sts))
		for i, st := range sts {
			filed[i] = st.Period
		}
		for _, p := range set.ISF.Overdue(ag.Start, ag.End, ag.Frequency, filed, today) {
			p := p
			due := p.Last().AddDays(set.ISF.DueDays)
			out = append(out, WorkItem{Agreement: ag, Period: &p, Due: &due})
		}
	}
	return out, nil
}
