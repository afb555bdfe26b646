package portal

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/accounts"
	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/dpfinance"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/recovery"
)

// The person's audits and recoveries: read through internal/dpfinance after the reach check, and
// a dispute recorded by the same step of the recovery's life as a staff-recorded one.

// WithFinance gives the person's view the audits and recoveries.
func (s *Service) WithFinance(f *dpfinance.Service) *Service { s.finance = f; return s }

// AuditView is an audit with its account and the evidence sent for it.
type AuditView struct {
	Audit     dpfinance.Audit
	AccountID uuid.UUID
	Sent      []accounts.Evidence
}

// RecoveryView is a recovery with the offsets runs took.
type RecoveryView struct {
	Recovery dpfinance.Recovery
	Taken    []dpfinance.OffsetTaken
}

// maxEvidence bounds the evidence shown with an audit.
const maxEvidence = 1000

func (s *Service) auditView(ctx context.Context, a actor.Actor, au dpfinance.Audit) (AuditView, error) {
	acct, _, err := s.accounts.AccountOfAgreement(ctx, a, au.AgreementID)
	if err != nil {
		return AuditView{}, err
	}
	v := AuditView{Audit: au, AccountID: acct.ID}
	id := au.ID
	var after *page.Cursor
	for len(v.Sent) < maxEvidence {
		list, err := s.accounts.ListEvidence(ctx, a, acct.ID, nil, &id, page.Request{Size: page.MaxSize, After: after})
		if err != nil {
			return AuditView{}, err
		}
		if len(list) <= page.MaxSize {
			v.Sent = append(v.Sent, list...)
			break
		}
		list = list[:page.MaxSize]
		v.Sent = append(v.Sent, list...)
		c := list[len(list)-1].Cursor()
		after = &c
	}
	return v, nil
}

// Audits returns the audits of a person's direct payments, oldest first.
func (s *Service) Audits(ctx context.Context, a actor.Actor, personID uuid.UUID) ([]AuditView, error) {
	list, err := s.Agreements(ctx, a, personID) // the person's, if the holder reaches them
	if err != nil {
		return nil, err
	}
	out := []AuditView{}
	for _, g := range list {
		if g.Kind != payment.DirectPaymentKind {
			continue
		}
		id := g.ID
		as, _, err := s.finance.ListAudits(ctx, a, dpfinance.AuditFilter{AgreementID: &id})
		if err != nil {
			return nil, err
		}
		for _, au := range as {
			v, err := s.auditView(ctx, a, au)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// dpAudit returns an audit of a person the holder acts for.
func (s *Service) dpAudit(ctx context.Context, a actor.Actor, id uuid.UUID) (dpfinance.Audit, error) {
	if err := only(a); err != nil {
		return dpfinance.Audit{}, err
	}
	au, err := s.finance.GetAudit(ctx, a, id)
	if err != nil {
		return dpfinance.Audit{}, err
	}
	if err := s.people.CheckReach(ctx, a, au.PersonID); err != nil {
		return dpfinance.Audit{}, err
	}
	return au, nil
}

// Audit returns one audit.
func (s *Service) Audit(ctx context.Context, a actor.Actor, id uuid.UUID) (AuditView, error) {
	au, err := s.dpAudit(ctx, a, id)
	if err != nil {
		return AuditView{}, err
	}
	return s.auditView(ctx, a, au)
}

// AuditLetter renders an audit's outcome letter: the council's letter (internal/letter).
func (s *Service) AuditLetter(ctx context.Context, a actor.Actor, id uuid.UUID) ([]byte, string, uuid.UUID, error) {
	au, err := s.dpAudit(ctx, a, id)
	if err != nil {
		return nil, "", uuid.Nil, err
	}
	pdf, disp, err := s.finance.Letter(ctx, a, id)
	return pdf, disp, au.PersonID, err
}

// auditOfAccount checks that auditID names an audit of the account.
func (s *Service) auditOfAccount(ctx context.Context, a actor.Actor, auditID, accountID uuid.UUID) error {
	wrong := accounts.ErrEvidenceTarget.WithMessage("audit_id names no audit of this account")
	au, err := s.finance.GetAudit(ctx, a, auditID)
	if apperr.KindOf(err) == apperr.NotFound {
		return wrong
	}
	if err != nil {
		return err
	}
	acct, _, err := s.accounts.AccountOfAgreement(ctx, a, au.AgreementID)
	if err != nil {
		return err
	}
	if acct.ID != accountID {
		return wrong
	}
	return nil
}

// Recoveries returns the recoveries of a person's agreements, newest first.
func (s *Service) Recoveries(ctx context.Context, a actor.Actor, personID uuid.UUID) ([]RecoveryView, error) {
	list, err := s.Agreements(ctx, a, personID) // the person's, if the holder reaches them
	if err != nil {
		return nil, err
	}
	out := []RecoveryView{}
	for _, g := range list {
		id := g.ID
		rs, taken, err := s.finance.ListRecoveries(ctx, a, &id, "", page.Request{})
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			out = append(out, RecoveryView{Recovery: r, Taken: taken[r.ID]})
		}
	}
	// Newest first across the agreements.
	slices.SortStableFunc(out, func(x, y RecoveryView) int { return y.Recovery.CreatedAt.Compare(x.Recovery.CreatedAt) })
	return out, nil
}

// Recovery returns one recovery of a person the holder acts for.
func (s *Service) Recovery(ctx context.Context, a actor.Actor, id uuid.UUID) (RecoveryView, error) {
	if err := only(a); err != nil {
		return RecoveryView{}, err
	}
	r, taken, err := s.finance.GetRecovery(ctx, a, id)
	if err != nil {
		return RecoveryView{}, err
	}
	if err := s.people.CheckReach(ctx, a, r.PersonID); err != nil {
		return RecoveryView{}, err
	}
	return RecoveryView{Recovery: r, Taken: taken}, nil
}

// DisputeRecovery records the holder's dispute of a recovery with their grounds: the same step of
// the recovery's life as a staff-recorded dispute, so the recovery pauses (no offsets, no
// chasing) until the council answers.
func (s *Service) DisputeRecovery(ctx context.Context, a actor.Actor, id uuid.UUID, grounds string) (RecoveryView, error) {
	var out RecoveryView
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		if _, err := s.Recovery(ctx, a, id); err != nil {
			return err
		}
		r, taken, err := s.finance.ActOnRecovery(ctx, a, id, recovery.Event{Kind: recovery.Dispute, Grounds: grounds})
		if err != nil {
			return err
		}
		out = RecoveryView{Recovery: r, Taken: taken}
		return nil
	})
	return out, err
}

// CanDispute reports whether a recovery can be disputed now.
func CanDispute(r recovery.Recovery) bool {
	for _, t := range recovery.Transitions {
		if t.From == r.State && t.On == recovery.Dispute {
			return true
		}
	}
	return false
}
