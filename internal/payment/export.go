package payment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/bacs"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/secret"
)

// purposeExportFile binds a sealed export file to its row.
const purposeExportFile = secret.PurposeExportFile

// ErrExportTooEarly is an export more than BACS allows before the processing day.
var ErrExportTooEarly = apperr.New(apperr.RuleViolation, "payment-run-export-too-early",
	"BACS takes a file at most 31 days before its processing day")

// fileError reports a file the rules refused (a recipient's details BACS cannot carry) without the
// file's own field pointers, which are not the request's.
func fileError(err error) error {
	var ae *apperr.Error
	if errors.As(err, &ae) && len(ae.Fields) > 0 {
		msgs := make([]string, len(ae.Fields))
		for i, f := range ae.Fields {
			msgs[i] = f.Message
		}
		c := *ae
		c.Fields, c.Message = nil, ae.Message+": "+strings.Join(msgs, "; ")
		return &c
	}
	return err
}

// ErrTotalsMismatch is an export whose files do not add up to the run: a bug, never sent.
var ErrTotalsMismatch = apperr.New(apperr.Internal, "payment-export-totals-mismatch", "the export files do not add up to the run's total")

// Export exports an approved run: a BACS Standard 18 file crediting each bank recipient (a direct
// payment to a bank or managed account; an ISF provider, once for all its people), a prepaid-card
// load file, and a remittance per ISF provider listing its people by reference. The files are kept
// sealed; exporting an exported run again returns them as they are, adding nothing. A run whose
// agreements changed after its build is refused (checkFresh).
func (s *Service) Export(ctx context.Context, a actor.Actor, id uuid.UUID, version int) (RunRecord, []FileRecord, error) {
	if s.keys == nil {
		return RunRecord{}, nil, ErrNoKeys
	}
	return s.runChange(ctx, a, id, version, func(ctx context.Context, r *RunRecord) (audit.Event, error) {
		if r.Status == Exported || r.Status == PaidRun {
			return audit.Event{}, nil // exported already: the same files, nothing new
		}
		if r.Status != Approved {
			return audit.Event{}, ErrRunNotApproved
		}
		today := s.today()
		if !r.ProcessingDay.After(today) {
			return audit.Event{}, ErrProcessingPassed
		}
		if r.ProcessingDay.DaysSince(today) > bacs.MaxAheadDays {
			return audit.Event{}, ErrExportTooEarly.WithMessage("the processing day is %s: export on or after %s", r.ProcessingDay,
				r.ProcessingDay.AddDays(-bacs.MaxAheadDays))
		}
		if err := s.checkFresh(ctx, *r); err != nil {
			return audit.Event{}, err
		}
		_, st, err := s.calendar(ctx, a.CouncilID)
		if err != nil {
			return audit.Event{}, err
		}
		files, err := s.exportFiles(ctx, a, *r, st, today)
		if err != nil {
			return audit.Event{}, err
		}
		if err := s.store.InsertFiles(ctx, files); err != nil {
			return audit.Event{}, err
		}
		now := s.timestamp()
		r.Status, r.ExportedBy, r.ExportedAt = Exported, &a.Subject, &now
		summary := make([]map[string]any, len(files))
		for i, f := range files {
			summary[i] = map[string]any{"file_id": f.ID.String(), "kind": string(f.Kind), "sha256": f.SHA256, "records": f.Records, "total_pence": f.Total}
		}
		return audit.Event{Action: "payment_run.exported", ChangedFields: []string{"status", "files"},
			Details: totalsDetails(*r, map[string]any{"files": summary, "processing_day": r.ProcessingDay.String(), "key_id": s.keys.Current()})}, nil
	})
}

// exportFiles writes the run's files, checks that they add up to the run, and seals them.
func (s *Service) exportFiles(ctx context.Context, a actor.Actor, r RunRecord, st council.Settings, today date.Date) ([]FileRecord, error) {
	payments, err := s.store.RunPayments(ctx, a.CouncilID, r.ID)
	if err != nil {
		return nil, err
	}
	var owners []uuid.UUID
	paid := make([]RunPayment, 0, len(payments))
	amounts := make([]int64, 0, len(payments))
	for _, p := range payments {
		var sum int64
		for _, l := range p.Lines {
			sum += l.Amount
		}
		if sum < 0 {
			return nil, ErrNegativePayment.WithMessage("agreement %s would be paid %d pence: hold all its lines or none", p.AgreementID, sum)
		}
		if sum > 0 {
			paid, amounts = append(paid, p), append(amounts, sum)
			owners = append(owners, p.owner())
		}
	}
	states, err := s.store.DetailsStates(ctx, a.CouncilID, owners)
	if err != nil {
		return nil, err
	}
	details, err := s.store.ConfirmedDetails(ctx, a.CouncilID, owners)
	if err != nil {
		return nil, err
	}
	var credits []bacs.Credit
	var loads []bacs.CardLoad
	type remit struct {
		provider uuid.UUID
		credit   int64
		lines    []bacs.RemittanceLine
	}
	byProvider := map[uuid.UUID]*remit{}
	var providers []uuid.UUID
	run := r.Number % 100_000
	for i, p := range paid {
		if hold := holdFor(p.detailsKind(), states[p.owner()]); hold != "" {
			return nil, ErrDetailsUnconfirmed.WithMessage("agreement %s: %s; hold its lines, or confirm the details, then export", p.AgreementID, hold)
		}
		d := details[p.owner()]
		switch {
		case p.Kind == ISFKind:
			rm := byProvider[*p.ProviderID]
			if rm == nil {
				rm = &remit{provider: *p.ProviderID}
				byProvider[*p.ProviderID] = rm
				providers = append(providers, *p.ProviderID)
			}
			rm.credit += amounts[i]
			for _, l := range p.Lines {
				from, to := r.PayDate, r.PayDate.AddDays(1)
				if l.Kind == KindCycle || l.Kind == KindAdjustment {
					from, to = l.CycleStart, l.CycleEnd
				}
				rm.lines = append(rm.lines, bacs.RemittanceLine{PersonReference: PersonReference(p.PersonID),
					AgreementReference: Reference("ISF", p.AgreementID, 12), From: from, To: to, Amount: l.Amount})
			}
		case d.Kind == PrepaidCard:
			card, err := s.keys.OpenValue(d.Sealed, secret.Binding{CouncilID: a.CouncilID, RecordID: d.ID, Purpose: secret.PurposeCardReference})
			if err != nil {
				return nil, err
			}
			loads = append(loads, bacs.CardLoad{CardAccountReference: card.Reveal(), Amount: amounts[i],
				Reference: fmt.Sprintf("PB-%05d-%s", run, shortHex(p.AgreementID, 10))})
		default:
			acct, err := s.keys.OpenBankAccount(d.Sealed, a.CouncilID, d.ID)
			if err != nil {
				return nil, err
			}
			credits = append(credits, bacs.Credit{SortCode: acct.SortCode.Reveal(), AccountNumber: acct.AccountNumber.Reveal(),
				AccountName: acct.AccountName.Reveal(), Reference: fmt.Sprintf("PB%05d %s", run, shortHex(p.AgreementID, 10)), Amount: amounts[i]})
		}
	}
	slices.SortFunc(providers, func(x, y uuid.UUID) int { return strings.Compare(x.String(), y.String()) })
	for _, pid := range providers {
		rm := byProvider[pid]
		d := details[pid]
		acct, err := s.keys.OpenBankAccount(d.Sealed, a.CouncilID, d.ID)
		if err != nil {
			return nil, err
		}
		credits = append(credits, bacs.Credit{SortCode: acct.SortCode.Reveal(), AccountNumber: acct.AccountNumber.Reveal(),
			AccountName: acct.AccountName.Reveal(), Reference: fmt.Sprintf("PB%05d %s", run, shortHex(pid, 10)), Amount: rm.credit})
	}
	now := s.timestamp()
	var out []FileRecord
	add := func(kind FileKind, provider *uuid.UUID, name, media string, body []byte, records int, total int64) error {
		f := FileRecord{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), RunID: r.ID, Kind: kind, ProviderID: provider, Name: name,
			MediaType: media, KeyID: s.keys.Current(), Size: len(body), Records: records, Total: total, CreatedAt: now}
		sum := sha256.Sum256(body)
		f.SHA256 = hex.EncodeToString(sum[:])
		var err error
		if f.Sealed, err = s.keys.Seal(body, secret.Binding{CouncilID: a.CouncilID, RecordID: f.ID, Purpose: purposeExportFile}); err != nil {
			return err
		}
		out = append(out, f)
		return nil
	}
	var bankTotal, cardTotal int64
	if len(credits) > 0 {
		o := st.Originator
		if o == nil {
			return nil, ErrOriginator
		}
		file := bacs.File{Originator: bacs.Originator{SUN: o.ServiceUserNumber, SortCode: o.SortCode, AccountNumber: o.AccountNumber, Name: o.AccountName},
			Serial: fmt.Sprintf("%06d", (r.Number-1)%999_999+1), Created: today, ProcessingDay: *r.ProcessingDay,
			ContraNarrative: fmt.Sprintf("PB RUN %05d", run), Credits: credits}
		body, err := bacs.Write(file)
		if err != nil {
			return nil, fileError(err)
		}
		t := file.Totals()
		bankTotal = t.CreditTotal
		if err := add(FileBACS, nil, fmt.Sprintf("run-%05d-bacs-standard18.txt", r.Number), "text/plain", body, t.CreditCount, t.CreditTotal); err != nil {
			return nil, err
		}
	}
	if len(loads) > 0 {
		body, err := bacs.WriteCardLoads(loads)
		if err != nil {
			return nil, fileError(err)
		}
		for _, l := range loads {
			cardTotal += l.Amount
		}
		if err := add(FileCardLoads, nil, fmt.Sprintf("run-%05d-card-loads.csv", r.Number), "text/csv", body, len(loads), cardTotal); err != nil {
			return nil, err
		}
	}
	for _, pid := range providers {
		rm := byProvider[pid]
		body, err := bacs.WriteRemittance(bacs.Remittance{ProviderReference: Reference("PRV", pid, 12), RunReference: fmt.Sprintf("RUN-%d", r.Number),
			PayDate: r.PayDate, Lines: rm.lines})
		if err != nil {
			return nil, fileError(err)
		}
		var total int64
		people := map[string]bool{}
		for _, l := range rm.lines {
			total += l.Amount
			people[l.PersonReference] = true
		}
		if total != rm.credit {
			return nil, ErrTotalsMismatch
		}
		p := pid
		if err := add(FileRemittance, &p, fmt.Sprintf("run-%05d-remittance-%s.csv", r.Number, shortHex(pid, 12)), "text/csv", body, len(people), total); err != nil {
			return nil, err
		}
	}
	if bankTotal+cardTotal != r.Totals.Total {
		return nil, ErrTotalsMismatch.WithMessage("files %d + %d, run %d", bankTotal, cardTotal, r.Totals.Total)
	}
	return out, nil
}

func shortHex(id uuid.UUID, n int) string {
	h := strings.ToUpper(hex.EncodeToString(id[:]))
	return h[len(h)-n:]
}

func (p RunPayment) owner() uuid.UUID {
	if p.Kind == ISFKind {
		return *p.ProviderID
	}
	return p.AgreementID
}

func (p RunPayment) detailsKind() DetailsKind {
	return detailsKindFor(AgreementRecord{Kind: p.Kind, AccountType: p.AccountType})
}

// ListFiles returns a page of export files; provider staff see only their own remittances.
func (s *Service) ListFiles(ctx context.Context, a actor.Actor, f FileFilter, p page.Request) ([]FileRecord, error) {
	if a.IsProviderOnly() {
		if f.ProviderID != nil && *f.ProviderID != *a.ProviderID {
			return nil, nil
		}
		f.ProviderID, f.Kind = a.ProviderID, FileRemittance
	}
	return s.store.ListFiles(ctx, a.CouncilID, f, p)
}

// FileContent returns a file and its bytes, exactly as exported; provider staff reach only their
// own remittances.
func (s *Service) FileContent(ctx context.Context, a actor.Actor, id uuid.UUID) (FileRecord, []byte, error) {
	f, err := s.store.GetFile(ctx, a.CouncilID, id)
	if err != nil {
		return FileRecord{}, nil, err
	}
	if a.IsProviderOnly() && (f.ProviderID == nil || *f.ProviderID != *a.ProviderID) {
		return FileRecord{}, nil, apperr.ErrNotFound
	}
	if s.keys == nil {
		return FileRecord{}, nil, ErrNoKeys
	}
	body, err := s.keys.Open(f.Sealed, secret.Binding{CouncilID: a.CouncilID, RecordID: f.ID, Purpose: purposeExportFile})
	if err != nil {
		return FileRecord{}, nil, err
	}
	// A file holds recipients' bank details in the clear: who took a copy, and when, is recorded.
	err = s.tx.WithinTx(ctx, func(ctx context.Context) error {
		return s.audit.Record(ctx, a, audit.Event{Action: "payment_file.downloaded", EntityType: "payment_file", EntityID: f.ID,
			Details: map[string]any{"run_id": f.RunID.String(), "kind": string(f.Kind)}})
	})
	return f, body, err
}

// AgreementPerson returns whose agreement id is (for the access record of a read that names the
// agreement only).
func (s *Service) AgreementPerson(ctx context.Context, a actor.Actor, kind AgreementKind, id uuid.UUID) (uuid.UUID, error) {
	r, err := s.agreement(ctx, a, kind, id, false)
	return r.PersonID, err
}

// ListOverpayments returns a page of the overpayments recorded for recovery.
func (s *Service) ListOverpayments(ctx context.Context, a actor.Actor, agreementID *uuid.UUID, p page.Request) ([]OverpaymentRecord, error) {
	return s.store.ListOverpayments(ctx, a.CouncilID, agreementID, p)
}

// ErrAnchorInUse is a change of an anchor once a cycle of its frequency has been paid.
var ErrAnchorInUse = apperr.New(apperr.RuleViolation, "payment-anchor-in-use",
	"a payment anchor cannot move once a cycle of its frequency has been taken by a run: cycles are identified by their start")

// CheckSettingsChange implements council.SettingsGuard: an anchor does not move once a cycle of
// its frequency has been taken.
func (s *Service) CheckSettingsChange(ctx context.Context, before, after council.Settings) error {
	for _, c := range []struct {
		f    Frequency
		b, a date.Date
	}{
		{FourWeekly, before.Payments.FourWeeklyAnchor, after.Payments.FourWeeklyAnchor},
		{TwoWeekly, before.Payments.TwoWeeklyAnchor, after.Payments.TwoWeeklyAnchor},
		{Monthly, before.Payments.MonthlyAnchor, after.Payments.MonthlyAnchor},
	} {
		if c.b.Equal(c.a) {
			continue
		}
		used, err := s.store.AnchorInUse(ctx, after.CouncilID, c.f)
		if err != nil {
			return err
		}
		if used {
			return ErrAnchorInUse.WithMessage("the %s anchor cannot move from %s: runs have taken %s cycles", c.f, c.b, c.f)
		}
	}
	return nil
}
