package payment

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/bacs"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/plan"
)

// Errors of payment runs.
var (
	ErrPayDate = apperr.New(apperr.RuleViolation, "payment-run-pay-date-out-of-range",
		"a run's pay date is within a year of today")
	ErrRunNotDraft       = apperr.New(apperr.Conflict, "payment-run-not-draft", "only a draft run can be approved, or have its lines released")
	ErrRunNotOpen        = apperr.New(apperr.Conflict, "payment-run-not-open", "lines can be held only in a draft or approved run")
	ErrRunNotApproved    = apperr.New(apperr.Conflict, "payment-run-not-approved", "only an approved run can be exported")
	ErrRunNotExported    = apperr.New(apperr.Conflict, "payment-run-not-exported", "only an exported run can be marked paid")
	ErrRunNotPaid        = apperr.New(apperr.Conflict, "payment-run-not-paid", "returns are recorded against a run marked paid (or when marking it paid)")
	ErrRunNotCancellable = apperr.New(apperr.Conflict, "payment-run-not-cancellable", "a run can be cancelled only before it is exported")
	ErrSelfApproval      = apperr.New(apperr.RuleViolation, "payment-run-self-approval",
		"segregation of duties: a payment run is approved by a user other than the one who created it")
	ErrLineHeld         = apperr.New(apperr.Conflict, "payment-line-already-held", "the line is already held")
	ErrLineNotHeld      = apperr.New(apperr.Conflict, "payment-line-not-held", "the line is not held")
	ErrLineNotLive      = apperr.New(apperr.Conflict, "payment-line-not-live", "the line is no longer taken by its run (cancelled, released or returned)")
	ErrReturnNotPaid    = apperr.New(apperr.RuleViolation, "payment-return-not-paid", "only a payment the run made (more than nothing, not held) can come back")
	ErrReturnTwice      = apperr.New(apperr.RuleViolation, "payment-return-duplicate", "a payment is returned once: the list names the same agreement twice")
	ErrLineTaken        = apperr.New(apperr.Conflict, "payment-line-taken", "another run took this line first")
	ErrOriginator       = apperr.New(apperr.RuleViolation, "bacs-originator-not-configured", "set the council's BACS originator (council settings) before exporting bank payments")
	ErrProcessingPassed = apperr.New(apperr.RuleViolation, "payment-run-processing-day-passed",
		"the run's BACS processing day is not after today: cancel the run and create it again")
	ErrRunStale = apperr.New(apperr.Conflict, "payment-run-stale",
		"agreements the run pays changed after it was built: hold their lines (a later run pays them as they are then), or cancel the run and create it again")
)

// ReasonChangedSinceBuild is why a run's lines for an agreement changed since its build no longer hold.
const ReasonChangedSinceBuild = "changed after the run was built (suspended, resumed, ended, repriced or re-signed)"

// maxStaleNamed bounds how many stale agreements a refusal names.
const maxStaleNamed = 10

// checkFresh refuses a run that pays an agreement on facts that changed after the build: the
// agreement changed (its version is not the one its lines were built from), is no longer signed
// or its plan no longer the approved one, or its recipient's details are not confirmed now (a
// change awaiting a second user, returned by the bank). It reads without locking, so builds of
// other runs, which lock their agreements, are never blocked by it; a change that commits after
// this check is one after approval or export, which the next run adjusts.
func (s *Service) checkFresh(ctx context.Context, r RunRecord) error {
	states, err := s.store.RunAgreementStates(ctx, r.CouncilID, r.ID)
	if err != nil {
		return err
	}
	var owners []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, a := range states {
		if o := a.Owner(); a.Net > 0 && !seen[o] {
			seen[o] = true
			owners = append(owners, o)
		}
	}
	details, err := s.store.DetailsStates(ctx, r.CouncilID, owners)
	if err != nil {
		return err
	}
	var stale []string
	count := 0
	for _, a := range states {
		reason := ""
		switch {
		case a.Changed:
			reason = ReasonChangedSinceBuild
		case !a.Signed:
			reason = ReasonNotSigned
		case !a.PlanApproved:
			reason = ReasonPlanSuperseded
		case a.Net > 0:
			reason = holdFor(detailsKindFor(AgreementRecord{Kind: a.Kind, AccountType: a.AccountType}), details[a.Owner()])
		}
		if reason == "" {
			continue
		}
		count++
		if len(stale) < maxStaleNamed {
			stale = append(stale, "agreement "+a.AgreementID.String()+": "+reason)
		}
	}
	if count == 0 {
		return nil
	}
	msg := strings.Join(stale, "; ")
	if count > len(stale) {
		msg += "; and " + strconv.Itoa(count-len(stale)) + " more"
	}
	return ErrRunStale.WithMessage("%s. Hold their lines, or cancel the run and create it again", msg)
}

// maxBatchRetries bounds how often a batch is read again after losing a line to another run (the
// agreements' row locks make it rare; a violation that persists is a bug, recorded on the run).
const maxBatchRetries = 5

// systemActor is who background builds act as in the audit trail.
func systemActor(councilID uuid.UUID) actor.Actor {
	return actor.Actor{Subject: "system:payment-run-builder", CouncilID: councilID}
}

// CreateRun creates a run for payDate, to be built in the background, and returns it building.
func (s *Service) CreateRun(ctx context.Context, a actor.Actor, payDate date.Date) (RunRecord, error) {
	today := s.today()
	if payDate.Before(today.AddDays(-366)) || payDate.After(today.AddDays(366)) {
		return RunRecord{}, ErrPayDate
	}
	var out RunRecord
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		cal, _, err := s.calendar(ctx, a.CouncilID)
		if err != nil {
			return err
		}
		n, err := s.store.NextRunNumber(ctx, a.CouncilID)
		if err != nil {
			return err
		}
		now := s.timestamp()
		r := RunRecord{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), Number: n, PayDate: payDate, Status: Building,
			LeadDays: cal.LeadDays, Horizon: cal.Horizon(payDate), CreatedBy: a.Subject, CreatedAt: now, Phase: PhaseDirectPayment,
			Version: 1, UpdatedAt: now}
		if err := s.store.InsertRun(ctx, r); err != nil {
			return err
		}
		out = r
		if err := s.audit.Record(ctx, a, audit.Event{Action: "payment_run.created", EntityType: "payment_run", EntityID: r.ID,
			Details: map[string]any{"number": n, "pay_date": payDate.String(), "lead_days": cal.LeadDays, "horizon": r.Horizon.String(),
				"four_weekly_anchor": cal.FourWeeklyAnchor.String(), "two_weekly_anchor": cal.TwoWeeklyAnchor.String(),
				"monthly_anchor": cal.MonthlyAnchor.String()}}); err != nil {
			return err
		}
		return s.builds.EnqueueBuild(ctx, a.CouncilID, r.ID)
	})
	return out, err
}

// BuildRun builds a run's lines: agreements in batches, each batch in one transaction that locks
// the run and the batch's agreements (in id order), reads what they have taken, builds their lines
// with the rules of BuildRun and inserts them, and moves the run's cursor. It is idempotent and
// restartable: a run not building is left alone, and a build that stopped carries on from its
// cursor. A River job calls it (internal/jobs), queued in the transaction that created the run, and
// retries it on failure.
func (s *Service) BuildRun(ctx context.Context, councilID, runID uuid.UUID) error {
	retries := 0
	for {
		done, err := s.buildBatch(ctx, councilID, runID)
		if errors.Is(err, ErrLineTaken) && retries < maxBatchRetries {
			retries++
			continue // another run took a line between our read and our insert: read again
		}
		retries = 0
		if err != nil {
			s.recordBuildError(ctx, councilID, runID, err)
			return err
		}
		if done {
			return nil
		}
	}
}

func (s *Service) recordBuildError(ctx context.Context, councilID, runID uuid.UUID, cause error) {
	msg := "the build failed; the job queue retries it"
	var ae *apperr.Error
	if errors.As(cause, &ae) && ae.Kind != apperr.Internal {
		msg = ae.Code + ": " + ae.Message
	}
	s.log.ErrorContext(ctx, "payment run build failed", "council_id", councilID.String(), "run_id", runID.String(), "error", cause.Error())
	_ = s.tx.WithinTx(ctx, func(ctx context.Context) error {
		r, err := s.store.GetRun(ctx, councilID, runID, true)
		if err != nil || r.Status != Building {
			return err
		}
		r.BuildError, r.Version, r.UpdatedAt = &msg, r.Version+1, s.timestamp()
		return s.store.UpdateRun(ctx, r)
	})
}

// buildBatch does one batch of a build, or finishes it; done when there is nothing left to do.
func (s *Service) buildBatch(ctx context.Context, councilID, runID uuid.UUID) (done bool, err error) {
	err = s.tx.WithinTx(ctx, func(ctx context.Context) error {
		r, err := s.store.GetRun(ctx, councilID, runID, true)
		if err != nil {
			return err
		}
		if r.Status != Building {
			done = true
			return nil
		}
		cal, _, err := s.calendar(ctx, councilID)
		if err != nil {
			return err
		}
		cal.LeadDays = r.LeadDays // the run's own, fixed when it was created
		if r.Phase == PhaseDone {
			done = true
			return s.finishBuild(ctx, r, cal)
		}
		if r.AgreementsTotal == 0 && r.AgreementsProcessed == 0 && r.Cursor == nil && r.Phase == PhaseDirectPayment {
			if r.AgreementsTotal, err = s.store.CountCandidates(ctx, councilID, r.Horizon); err != nil {
				return err
			}
		}
		kind := DirectPaymentKind
		if r.Phase == PhaseISF {
			kind = ISFKind
		}
		batch, err := s.store.LockCandidates(ctx, councilID, kind, r.Cursor, r.Horizon, s.batch)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			r.Cursor = nil
			r.Phase = PhaseISF
			if kind == ISFKind {
				r.Phase = PhaseDone
			}
			return s.store.UpdateRun(ctx, r)
		}
		lines, skipped, err := s.batchLines(ctx, r, cal, batch)
		if err != nil {
			return err
		}
		if err := s.store.InsertLines(ctx, lines); err != nil {
			return err
		}
		last := batch[len(batch)-1].ID
		r.Cursor, r.AgreementsProcessed = &last, r.AgreementsProcessed+len(batch)
		r.AgreementsTotal = max(r.AgreementsTotal, r.AgreementsProcessed)
		r.Totals.Skipped += skipped
		r.UpdatedAt = s.timestamp()
		return s.store.UpdateRun(ctx, r)
	})
	return done, err
}

// batchLines builds the lines of a batch of (locked) agreements.
func (s *Service) batchLines(ctx context.Context, r RunRecord, cal Calendar, batch []AgreementRecord) ([]StoredLine, int, error) {
	in, err := s.store.BuildInputs(ctx, r.CouncilID, batch)
	if err != nil {
		return nil, 0, err
	}
	var offsets map[uuid.UUID][]RecoveryOffset
	if s.recover != nil {
		ids := make([]uuid.UUID, len(batch))
		for i := range batch {
			ids[i] = batch[i].ID
		}
		if offsets, err = s.recover.Offsets(ctx, r.CouncilID, ids); err != nil {
			return nil, 0, err
		}
	}
	byID := make(map[uuid.UUID]*AgreementRecord, len(batch))
	ras := make([]RunAgreement, len(batch))
	for i := range batch {
		ag := &batch[i]
		byID[ag.ID] = ag
		ras[i] = RunAgreement{Agreement: agreementOf(*ag, in.Amounts[ag.ID], in.Suspensions[ag.ID]), Taken: in.Taken[ag.ID],
			Carries: in.Carries[ag.ID], OneOffs: in.OneOffs[ag.ID], Block: ag.BlockReason(),
			Hold: holdFor(detailsKindFor(*ag), in.Details[ag.Owner()]), Offsets: offsets[ag.ID]}
	}
	built, err := BuildRun(RunInput{RunID: r.ID, PayDate: r.PayDate, Calendar: cal, Agreements: ras})
	if err != nil {
		return nil, 0, err
	}
	now := s.timestamp()
	out := make([]StoredLine, len(built.Lines))
	system := "system"
	for i, l := range built.Lines {
		ag := byID[l.AgreementID]
		out[i] = StoredLine{Line: l, CouncilID: r.CouncilID, ID: uuid.Must(uuid.NewV7()), RunID: r.ID, AgreementKind: ag.Kind,
			PersonID: ag.PersonID, ProviderID: ag.ProviderID, State: Live, CreatedAt: now, AgreementVersion: ag.Version}
		if l.Held {
			out[i].HeldBy = &system
		}
	}
	return out, len(built.Skipped), nil
}

// finishBuild totals the built run and makes it a draft.
func (s *Service) finishBuild(ctx context.Context, r RunRecord, cal Calendar) error {
	t, err := s.store.RunTotals(ctx, r.CouncilID, r.ID)
	if err != nil {
		return err
	}
	t.Skipped = r.Totals.Skipped
	r.Totals, r.Status, r.BuildError, r.Version, r.UpdatedAt = t, Draft, nil, r.Version+1, s.timestamp()
	if err := s.store.UpdateRun(ctx, r); err != nil {
		return err
	}
	return s.audit.Record(ctx, systemActor(r.CouncilID), audit.Event{Action: "payment_run.built", EntityType: "payment_run", EntityID: r.ID,
		ChangedFields: []string{"status", "totals"}, Details: totalsDetails(r, map[string]any{"agreements_processed": r.AgreementsProcessed,
			"horizon": r.Horizon.String(), "lead_days": cal.LeadDays, "created_by": r.CreatedBy})})
}

func totalsDetails(r RunRecord, more map[string]any) map[string]any {
	d := map[string]any{"number": r.Number, "pay_date": r.PayDate.String(), "line_count": r.Totals.Lines, "agreement_count": r.Totals.Agreements,
		"skipped_count": r.Totals.Skipped, "total_pence": r.Totals.Total, "held_line_count": r.Totals.HeldLines, "held_pence": r.Totals.Held}
	for k, v := range more {
		d[k] = v
	}
	return d
}

// GetRun returns a run with its files.
func (s *Service) GetRun(ctx context.Context, a actor.Actor, id uuid.UUID) (RunRecord, []FileRecord, error) {
	r, err := s.store.GetRun(ctx, a.CouncilID, id, false)
	if err != nil {
		return RunRecord{}, nil, err
	}
	files, err := s.store.RunFiles(ctx, a.CouncilID, id)
	return r, files, err
}

// ListRuns returns a page of runs.
func (s *Service) ListRuns(ctx context.Context, a actor.Actor, f RunFilter, p page.Request) ([]RunRecord, error) {
	return s.store.ListRuns(ctx, a.CouncilID, f, p)
}

// ListLines returns a page of lines, of one run or across runs.
func (s *Service) ListLines(ctx context.Context, a actor.Actor, f LineFilter, p page.Request) ([]StoredLine, error) {
	if f.RunID != nil {
		if _, err := s.store.GetRun(ctx, a.CouncilID, *f.RunID, false); err != nil {
			return nil, err
		}
	}
	return s.store.ListLines(ctx, a.CouncilID, f, p)
}

// runChange runs fn on the run, locked, at version, with its audit event in the same transaction.
func (s *Service) runChange(ctx context.Context, a actor.Actor, id uuid.UUID, version int, fn func(ctx context.Context, r *RunRecord) (audit.Event, error)) (RunRecord, []FileRecord, error) {
	var out RunRecord
	var files []FileRecord
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		r, err := s.store.GetRun(ctx, a.CouncilID, id, true)
		if err != nil {
			return err
		}
		if r.Version != version {
			return apperr.ErrVersionMismatch
		}
		before := r.Version
		ev, err := fn(ctx, &r)
		if err != nil {
			return err
		}
		if ev.Action != "" {
			r.Version, r.UpdatedAt = before+1, s.timestamp()
			if err := s.store.UpdateRun(ctx, r); err != nil {
				return err
			}
			ev.EntityType, ev.EntityID = "payment_run", r.ID
			if err := s.audit.Record(ctx, a, ev); err != nil {
				return err
			}
		}
		out = r
		files, err = s.store.RunFiles(ctx, a.CouncilID, r.ID)
		return err
	})
	return out, files, err
}

// ApproveRun approves a draft run: a user other than its creator, and only while what the run
// pays still holds (checkFresh). It fixes the BACS processing
// day: the pay date (or the working day before it, when it is not one), but never earlier than
// the council's processing days after approval, counted in working days.
func (s *Service) ApproveRun(ctx context.Context, a actor.Actor, id uuid.UUID, version int) (RunRecord, []FileRecord, error) {
	return s.runChange(ctx, a, id, version, func(ctx context.Context, r *RunRecord) (audit.Event, error) {
		if r.Status != Draft {
			return audit.Event{}, ErrRunNotDraft
		}
		if r.CreatedBy == a.Subject {
			return audit.Event{}, ErrSelfApproval
		}
		if err := s.checkFresh(ctx, *r); err != nil {
			return audit.Event{}, err
		}
		cal, _, err := s.calendar(ctx, a.CouncilID)
		if err != nil {
			return audit.Event{}, err
		}
		today := s.today()
		day, err := s.processingDay(today, r.PayDate, cal.ProcessingDays)
		if err != nil {
			return audit.Event{}, err
		}
		now := s.timestamp()
		r.Status, r.ApprovedBy, r.ApprovedAt, r.ProcessingDay = Approved, &a.Subject, &now, &day
		return audit.Event{Action: "payment_run.approved", ChangedFields: []string{"status", "processing_day"},
			Details: totalsDetails(*r, map[string]any{"processing_day": day.String(), "processing_days": cal.ProcessingDays,
				"approved_on": today.String(), "created_by": r.CreatedBy})}, nil
	})
}

// processingDay is the BACS processing day of a run approved on approvedOn paying on payDate.
func (s *Service) processingDay(approvedOn, payDate date.Date, offset int) (date.Date, error) {
	earliest, err := bacs.EarliestProcessingDay(s.holidays, approvedOn, offset)
	if err != nil {
		return date.Date{}, err
	}
	day := payDate
	for range 10 { // never more than a long weekend and a bank holiday or two
		ok, err := s.holidays.IsWorkingDay(day)
		if err != nil {
			return date.Date{}, err
		}
		if ok {
			break
		}
		day = day.AddDays(-1)
	}
	if day.Before(earliest) {
		day = earliest
	}
	return day, bacs.CheckProcessingDay(s.holidays, approvedOn, day, offset)
}

// lineOf reads a line of the run.
func (s *Service) lineOf(ctx context.Context, a actor.Actor, runID, lineID uuid.UUID) (StoredLine, error) {
	l, err := s.store.GetLine(ctx, a.CouncilID, lineID)
	if err != nil {
		return StoredLine{}, err
	}
	if l.RunID != runID {
		return StoredLine{}, apperr.ErrNotFound
	}
	return l, nil
}

// Hold holds a line of a draft or approved run, and with it the agreement's other lines in the
// run: a run pays an agreement the sum of its lines.
func (s *Service) Hold(ctx context.Context, a actor.Actor, runID, lineID uuid.UUID, version int, reason string) (RunRecord, []FileRecord, error) {
	reason = strings.TrimSpace(reason)
	return s.runChange(ctx, a, runID, version, func(ctx context.Context, r *RunRecord) (audit.Event, error) {
		if r.Status != Draft && r.Status != Approved {
			return audit.Event{}, ErrRunNotOpen
		}
		l, err := s.lineOf(ctx, a, runID, lineID)
		if err != nil {
			return audit.Event{}, err
		}
		if l.State != Live {
			return audit.Event{}, ErrLineNotLive
		}
		if l.Held {
			return audit.Event{}, ErrLineHeld
		}
		if err := s.store.SetHeld(ctx, a.CouncilID, runID, l.AgreementID, true, &reason, &a.Subject); err != nil {
			return audit.Event{}, err
		}
		if r.Totals, err = s.retotal(ctx, *r); err != nil {
			return audit.Event{}, err
		}
		return audit.Event{Action: "payment_run.line_held", ChangedFields: []string{"held"}, Reason: reason,
			Details: totalsDetails(*r, map[string]any{"line_id": lineID.String(), "agreement_id": l.AgreementID.String()})}, nil
	})
}

func (s *Service) retotal(ctx context.Context, r RunRecord) (RunTotals, error) {
	t, err := s.store.RunTotals(ctx, r.CouncilID, r.ID)
	t.Skipped, t.ReturnedLines, t.Returned = r.Totals.Skipped, r.Totals.ReturnedLines, r.Totals.Returned
	return t, err
}

// Release releases a held line of a draft run, and the agreement's other lines in it. A hold for
// details not confirmed by a second user cannot be released until they are.
func (s *Service) Release(ctx context.Context, a actor.Actor, runID, lineID uuid.UUID, version int, reason string) (RunRecord, []FileRecord, error) {
	reason = strings.TrimSpace(reason)
	return s.runChange(ctx, a, runID, version, func(ctx context.Context, r *RunRecord) (audit.Event, error) {
		if r.Status != Draft {
			return audit.Event{}, ErrRunNotDraft
		}
		l, err := s.lineOf(ctx, a, runID, lineID)
		if err != nil {
			return audit.Event{}, err
		}
		if l.State != Live {
			return audit.Event{}, ErrLineNotLive
		}
		if !l.Held {
			return audit.Event{}, ErrLineNotHeld
		}
		ag, err := s.store.GetAgreement(ctx, a.CouncilID, l.AgreementID, l.AgreementKind, false)
		if err != nil {
			return audit.Event{}, err
		}
		in, err := s.store.BuildInputs(ctx, a.CouncilID, []AgreementRecord{ag})
		if err != nil {
			return audit.Event{}, err
		}
		if hold := holdFor(detailsKindFor(ag), in.Details[ag.Owner()]); hold != "" {
			return audit.Event{}, ErrDetailsUnconfirmed.WithMessage("%s: the line stays held until they are", hold)
		}
		if err := s.store.SetHeld(ctx, a.CouncilID, runID, l.AgreementID, false, nil, nil); err != nil {
			return audit.Event{}, err
		}
		if r.Totals, err = s.retotal(ctx, *r); err != nil {
			return audit.Event{}, err
		}
		return audit.Event{Action: "payment_run.line_released", ChangedFields: []string{"held"}, Reason: reason,
			Details: totalsDetails(*r, map[string]any{"line_id": lineID.String(), "agreement_id": l.AgreementID.String()})}, nil
	})
}

// CancelRun cancels a run before export: its lines are no longer taken, and later runs take them.
func (s *Service) CancelRun(ctx context.Context, a actor.Actor, id uuid.UUID, version int, reason string) (RunRecord, []FileRecord, error) {
	reason = strings.TrimSpace(reason)
	return s.runChange(ctx, a, id, version, func(ctx context.Context, r *RunRecord) (audit.Event, error) {
		if r.Status != Building && r.Status != Draft && r.Status != Approved {
			return audit.Event{}, ErrRunNotCancellable
		}
		if err := s.store.SetRunLinesState(ctx, a.CouncilID, r.ID, Live, CancelledLine, false); err != nil {
			return audit.Event{}, err
		}
		now := s.timestamp()
		from := r.Status
		r.Status, r.CancelledBy, r.CancelledAt, r.CancelReason = Cancelled, &a.Subject, &now, &reason
		return audit.Event{Action: "payment_run.cancelled", ChangedFields: []string{"status"}, Reason: reason,
			Details: totalsDetails(*r, map[string]any{"from_status": string(from)})}, nil
	})
}

// Return is a payment the bank returned: a line of the agreement whose payment came back.
type Return struct {
	LineID uuid.UUID
	Reason string
}

// MarkPaid marks an exported run paid: held lines are released from it (a later run takes them),
// the returned payments become unpaid again, and overpayment lines are recorded for recovery.
func (s *Service) MarkPaid(ctx context.Context, a actor.Actor, id uuid.UUID, version int, returns []Return) (RunRecord, []FileRecord, error) {
	return s.runChange(ctx, a, id, version, func(ctx context.Context, r *RunRecord) (audit.Event, error) {
		if r.Status != Exported {
			return audit.Event{}, ErrRunNotExported
		}
		if err := s.store.SetRunLinesState(ctx, a.CouncilID, r.ID, Live, Released, true); err != nil {
			return audit.Event{}, err
		}
		details, _, err := s.applyReturns(ctx, a, r, returns)
		if err != nil {
			return audit.Event{}, err
		}
		now := s.timestamp()
		if err := s.store.RecordOverpayments(ctx, a.CouncilID, r.ID, now); err != nil {
			return audit.Event{}, err
		}
		invoiced, err := s.grossInvoices(ctx, a, r.ID)
		if err != nil {
			return audit.Event{}, err
		}
		if err := s.store.PostLedgers(ctx, a.CouncilID, r.ID, invoiced, a.Subject, now); err != nil {
			return audit.Event{}, err
		}
		if s.recover != nil {
			if err := s.recover.RunPaid(ctx, a, a.CouncilID, r.ID, date.Today(now)); err != nil {
				return audit.Event{}, err
			}
		}
		r.Status, r.PaidBy, r.PaidAt = PaidRun, &a.Subject, &now
		return audit.Event{Action: "payment_run.paid", ChangedFields: []string{"status"}, Details: totalsDetails(*r, details)}, nil
	})
}

// grossInvoices is, for each gross direct payment whose cycles the run pays, the person's share of
// the direct-payment option a year (plan.DPPersonShare, under the contribution in force): what
// PostLedgers invoices them per cycle paid, with the same arithmetic as a net payment's
// contribution due. Agreements without a contribution are left out.
func (s *Service) grossInvoices(ctx context.Context, a actor.Actor, runID uuid.UUID) (map[uuid.UUID]int64, error) {
	gs, err := s.store.GrossInvoiced(ctx, a.CouncilID, runID)
	if err != nil || len(gs) == 0 {
		return nil, err
	}
	out := map[uuid.UUID]int64{}
	shares := map[uuid.UUID]int64{}
	for _, g := range gs {
		share, ok := shares[g.PlanID]
		if !ok {
			v, err := s.plans.Get(ctx, a, g.PlanID)
			if err != nil {
				return nil, err
			}
			share = plan.DPPersonShare(v)
			shares[g.PlanID] = share
		}
		if share > 0 {
			out[g.AgreementID] = share
		}
	}
	return out, nil
}

// RecordReturns records payments of a paid run that the bank returned later.
func (s *Service) RecordReturns(ctx context.Context, a actor.Actor, id uuid.UUID, version int, returns []Return) (RunRecord, []FileRecord, error) {
	return s.runChange(ctx, a, id, version, func(ctx context.Context, r *RunRecord) (audit.Event, error) {
		if r.Status != PaidRun {
			return audit.Event{}, ErrRunNotPaid
		}
		details, returned, err := s.applyReturns(ctx, a, r, returns)
		if err != nil {
			return audit.Event{}, err
		}
		now := s.timestamp()
		if err := s.store.PostReturns(ctx, a.CouncilID, r.ID, date.Today(now), a.Subject, now); err != nil {
			return audit.Event{}, err
		}
		// The run was paid, so its offsets were recorded recovered: the returned payments' were
		// not (returns recorded while marking a run paid are unpaid before RunPaid counts).
		if s.recover != nil {
			if err := s.recover.RunReturned(ctx, a, a.CouncilID, r.ID, returned, date.Today(now)); err != nil {
				return audit.Event{}, err
			}
		}
		return audit.Event{Action: "payment_run.returns_recorded", ChangedFields: []string{"lines"}, Details: totalsDetails(*r, details)}, nil
	})
}

// applyReturns makes each returned agreement's lines of the run unpaid again, with the reason, and
// marks its recipient's details returned so that later payments are held until new ones are
// confirmed. It gives the returned agreements too.
func (s *Service) applyReturns(ctx context.Context, a actor.Actor, r *RunRecord, returns []Return) (map[string]any, []uuid.UUID, error) {
	seen := map[uuid.UUID]bool{}
	var agreements []uuid.UUID
	var lines int
	var amount int64
	var reasons []string
	for i, ret := range returns {
		l, err := s.lineOf(ctx, a, r.ID, ret.LineID)
		if apperr.KindOf(err) == apperr.NotFound {
			return nil, nil, apperr.Validation(apperr.FieldError{Field: "/returned/" + strconv.Itoa(i) + "/payment_line_id", In: "body", Code: "not_in_run",
				Message: "names no line of this run"})
		}
		if err != nil {
			return nil, nil, err
		}
		if seen[l.AgreementID] {
			return nil, nil, ErrReturnTwice
		}
		seen[l.AgreementID] = true
		agreements = append(agreements, l.AgreementID)
		all, err := s.store.AgreementLines(ctx, a.CouncilID, r.ID, l.AgreementID)
		if err != nil {
			return nil, nil, err
		}
		var paid int64
		for _, x := range all {
			if x.State == Live && !x.Held {
				paid += x.Amount
			}
		}
		if l.State != Live || l.Held || paid <= 0 {
			return nil, nil, ErrReturnNotPaid.WithMessage("line %d: the run paid this agreement nothing that could come back", i)
		}
		reason := strings.TrimSpace(ret.Reason)
		n, err := s.store.ReturnLines(ctx, a.CouncilID, r.ID, l.AgreementID, reason)
		if err != nil {
			return nil, nil, err
		}
		ag, err := s.store.GetAgreement(ctx, a.CouncilID, l.AgreementID, l.AgreementKind, false)
		if err != nil {
			return nil, nil, err
		}
		if err := s.store.MarkDetailsReturned(ctx, a.CouncilID, []uuid.UUID{ag.Owner()}, reason, s.timestamp()); err != nil {
			return nil, nil, err
		}
		lines, amount = lines+n, amount+paid
		reasons = append(reasons, reason)
	}
	r.Totals.ReturnedLines += lines
	r.Totals.Returned += amount
	return map[string]any{"returned_agreements": len(returns), "returned_lines": lines, "returned_pence": amount, "return_reasons": reasons}, agreements, nil
}
