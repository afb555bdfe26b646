package dpfinance

import (
	"context"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/dpaudit"
	"github.com/pbudget/pbudget/internal/isf"
	"github.com/pbudget/pbudget/internal/money"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/recovery"
)

// isfSurplusSource is what an ISF surplus recovery is worked out from: a flagged statement, and
// the figures that make the council's share of its excess.
type isfSurplusSource struct {
	agreement   ISFAgreement
	statement   ISFStatement
	settings    isf.Settings
	flag        isf.Flag
	weekly      int64
	fromCouncil int64 // received from the council over the ISF's live statements to this one
	fromPerson  int64 // … and from the person
	earlier     int64 // what earlier ISF surplus recoveries of the ISF claim of this balance (stillInBalance)
	// personShare is the person's part of the excess, in proportion to what they paid in
	// (dpaudit.Shares: rounded down); it is never the council's to recover.
	personShare  int64
	councilShare int64 // the excess less the person's share, less earlier
}

// isfSurplus reads a flagged statement for a recovery (DOMAIN.md section 11, "ISF statements"
// and "Recovery"). The statement is locked, so that two recoveries of it wait for each other (the
// unique key recoveries_isf_statement_key is the guarantee). A statement is flagged when it is
// the ISF's latest live statement (submitted or accepted: a queried one does not count, and a
// later statement states the balance now) and the ISF's history to it meets Dorset's rule
// (isf.Settings.SurplusFlag, with the council's settings now). Its excess is the closing balance
// less isf_surplus_weeks × the weekly amount. The ISF holds the person's money as well as the
// council's when the person pays a contribution into it: the person's share of the excess is
// excess × from person ÷ (from council + from person) over the live statements, rounded down,
// and the council's share is the rest — less what earlier ISF surplus recoveries of the same ISF
// still ask (the excess they recover is still in this balance until their offsets are paid). As
// with an audit's surplus, the person's share is decided (refund or keep) with the first recovery.
func (s *Service) isfSurplus(ctx context.Context, councilID, statementID uuid.UUID) (isfSurplusSource, error) {
	var src isfSurplusSource
	// The ISF agreement is locked first, as filing a statement locks it: a statement filed while
	// this recovery is raised waits for it (and a recovery of that statement then sees this one),
	// and the two never take the same excess.
	st, err := s.d.Store.GetISFStatement(ctx, councilID, statementID, false)
	if err != nil {
		return src, err
	}
	ag, err := s.d.Store.ISFAgreement(ctx, councilID, st.AgreementID, true)
	if err != nil {
		return src, err
	}
	if st, err = s.d.Store.GetISFStatement(ctx, councilID, statementID, true); err != nil {
		return src, err
	}
	if st.Status == "queried" {
		return src, ErrISFNotFlagged.WithMessage("the statement was queried: a queried statement's balance is not recovered from")
	}
	hist, err := s.d.Store.ISFStatements(ctx, councilID, []uuid.UUID{ag.ID})
	if err != nil {
		return src, err
	}
	set, err := s.settings(ctx, councilID)
	if err != nil {
		return src, err
	}
	sts := live(hist[ag.ID])
	if n := len(sts); n == 0 || !sts[n-1].Period.Start.Equal(st.Statement.Period.Start) {
		later := st.Statement.Period.Start
		if n > 0 {
			later = sts[n-1].Period.Start
		}
		return src, ErrISFNotFlagged.WithMessage("the ISF has a later statement (the period from %s): its balance is the one to recover from", later)
	}
	src = isfSurplusSource{agreement: ag, statement: st, settings: set.ISF, weekly: ag.Weekly()}
	f := set.ISF.SurplusFlag(sts, src.weekly)
	if f == nil {
		return src, ErrISFNotFlagged.WithMessage("the balance of %s is not flagged: it has not been above %d weeks of %s a week (%s) for more than %d weeks",
			money.Format(st.Statement.Closing), set.ISF.SurplusWeeks, money.Format(src.weekly), money.Format(int64(set.ISF.SurplusWeeks)*src.weekly),
			set.ISF.SurplusMaxWeeks)
	}
	src.flag = *f
	for _, x := range sts {
		src.fromCouncil += x.FromCouncil
		src.fromPerson += x.FromPerson
	}
	src.personShare, src.councilShare = dpaudit.Shares(f.Excess, src.fromPerson, src.fromCouncil)
	earlier, err := s.d.Store.ListRecoveries(ctx, councilID, &ag.ID, "", page.Request{})
	if err != nil {
		return src, err
	}
	var prior []Recovery
	for _, e := range earlier {
		if e.Proposal.Basis != recovery.ISFSurplus || e.State.State == recovery.WrittenOff {
			continue
		}
		if e.ISFStatementID != nil && *e.ISFStatementID == st.ID {
			return src, ErrSourceTaken.WithMessage("the statement has a recovery already (%s): write it off before raising another", e.ID)
		}
		prior = append(prior, e)
	}
	ids := make([]uuid.UUID, len(prior))
	for i, e := range prior {
		ids[i] = e.ID
	}
	taken, err := s.d.Store.OffsetsTaken(ctx, councilID, ids)
	if err != nil {
		return src, err
	}
	for _, e := range prior {
		src.earlier += stillInBalance(e, taken[e.ID], st.Statement.Period.End)
	}
	if src.earlier > 0 {
		src.councilShare = max(0, src.councilShare-src.earlier)
		src.personShare = 0 // its treatment was decided with the first recovery
	}
	return src, nil
}

// stillInBalance is what an earlier ISF surplus recovery claims of money still in a statement's
// balance at the period's end: its amount, less what was written off, less the offsets of paid
// runs for cycles starting by then (the council paid the ISF that much less, so the statement's
// balance is already lower by it). Money recovered otherwise (the provider paying an invoice) is
// not on the provider's statements, so it still counts: the excess it recovered is never asked
// again.
func stillInBalance(e Recovery, taken []OffsetTaken, periodEnd date.Date) int64 {
	in := e.State.Amount - e.State.WrittenOff
	for _, o := range taken {
		if o.State == "live" && o.RunStatus == "paid" && !o.CycleStart.After(periodEnd) {
			in -= o.Amount
		}
	}
	return max(0, in)
}

// figures are the source's figures for the recovery's audit event.
func (src isfSurplusSource) figures() map[string]any {
	return map[string]any{"isf_statement_id": src.statement.ID.String(), "period_start": src.statement.Statement.Period.Start.String(),
		"period_end": src.statement.Statement.Period.End.String(), "closing_pence": src.statement.Statement.Closing,
		"weekly_pence": src.weekly, "isf_surplus_weeks": src.settings.SurplusWeeks, "isf_surplus_max_weeks": src.settings.SurplusMaxWeeks,
		"threshold_pence": src.flag.Threshold, "excess_pence": src.flag.Excess, "held_since": src.flag.Since.String(),
		"held_through": src.flag.Through.String(), "held_days": src.flag.HeldDays, "from_council_pence": src.fromCouncil,
		"from_person_pence": src.fromPerson, "earlier_claimed_pence": src.earlier}
}
