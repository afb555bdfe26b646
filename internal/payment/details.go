package payment

import (
	"context"
	"crypto/subtle"
	"strings"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/bacs"
	"github.com/pbudget/pbudget/internal/provider"
	"github.com/pbudget/pbudget/internal/secret"
)

// DetailsOwner names whose details: a direct-payment agreement's recipient, or an ISF provider.
type DetailsOwner struct {
	AgreementID *uuid.UUID
	ProviderID  *uuid.UUID
}

func (o DetailsOwner) id() uuid.UUID {
	if o.AgreementID != nil {
		return *o.AgreementID
	}
	return *o.ProviderID
}

// DetailsInput is what a user keys: a bank account or a prepaid card's account reference. For a
// confirmation the account name is not compared (the bank holds it in its own spelling).
type DetailsInput struct {
	Bank   *secret.BankAccount
	Card   *secret.Value
	Reason string
}

// DetailsView is an owner's details as shown: masked.
type DetailsView struct {
	Confirmed *DetailsRecord
	Pending   *DetailsRecord
}

// Errors of recipients' details.
var (
	ErrDetailsKind = apperr.New(apperr.RuleViolation, "payment-details-kind-mismatch",
		"a prepaid-card agreement takes a card reference; a bank or managed account, and an ISF provider, a bank account")
	ErrDetailsInput = apperr.Validation(apperr.FieldError{Field: "/bank_account", In: "body", Code: "one_of",
		Message: "send exactly one of bank_account and prepaid_card"})
	ErrNotPending  = apperr.New(apperr.Conflict, "payment-details-not-pending", "there is no change of details awaiting confirmation")
	ErrSelfConfirm = apperr.New(apperr.RuleViolation, "payment-details-self-confirmation",
		"segregation of duties: details are confirmed by a user other than the one who set them")
	ErrDetailsMismatch = apperr.New(apperr.RuleViolation, "payment-details-mismatch",
		"the details keyed do not match the details awaiting confirmation: check them with the recipient again")
	ErrProviderNotISF     = apperr.New(apperr.RuleViolation, "provider-not-isf", "bank details are kept for ISF providers, which runs pay")
	ErrNoKeys             = apperr.New(apperr.Internal, "secret-keys-missing", "the service has no encryption keys (PB_SECRET_KEYS)")
	ErrDetailsUnconfirmed = apperr.New(apperr.RuleViolation, "payment-details-unconfirmed",
		"the recipient's bank or card details are not confirmed by a second user (or a payment to them came back)")
)

// owner checks that the owner exists for the actor and returns what kind of details it takes.
func (s *Service) owner(ctx context.Context, a actor.Actor, o DetailsOwner, forUpdate bool) (DetailsKind, error) {
	if o.AgreementID != nil {
		r, err := s.store.GetAgreement(ctx, a.CouncilID, *o.AgreementID, DirectPaymentKind, forUpdate)
		if err != nil {
			return "", err
		}
		return detailsKindFor(r), nil
	}
	p, err := s.providers.Get(ctx, a, *o.ProviderID)
	if err != nil {
		return "", err
	}
	if p.Type != provider.ISFProvider {
		return "", ErrProviderNotISF
	}
	return BankAccount, nil
}

// detailsKindFor is the kind of details that pays an agreement.
func detailsKindFor(r AgreementRecord) DetailsKind {
	if r.Kind == DirectPaymentKind && r.AccountType == "prepaid_card" {
		return PrepaidCard
	}
	return BankAccount
}

// Details returns the owner's details, masked.
func (s *Service) Details(ctx context.Context, a actor.Actor, o DetailsOwner) (DetailsView, error) {
	if _, err := s.owner(ctx, a, o, false); err != nil {
		return DetailsView{}, err
	}
	rows, err := s.store.Details(ctx, a.CouncilID, o.id(), false)
	if err != nil {
		return DetailsView{}, err
	}
	return viewOf(rows), nil
}

func viewOf(rows []DetailsRecord) DetailsView {
	var v DetailsView
	for i := range rows {
		switch rows[i].Status {
		case DetailsConfirmed:
			v.Confirmed = &rows[i]
		case DetailsPending:
			v.Pending = &rows[i]
		}
	}
	return v
}

// SetDetails records new details for the owner, pending until a second user confirms them: the
// owner's next payments are held meanwhile. A change still pending is replaced.
func (s *Service) SetDetails(ctx context.Context, a actor.Actor, o DetailsOwner, in DetailsInput) (DetailsView, error) {
	if s.keys == nil {
		return DetailsView{}, ErrNoKeys
	}
	if (in.Bank == nil) == (in.Card == nil) {
		return DetailsView{}, ErrDetailsInput
	}
	var out DetailsView
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		want, err := s.owner(ctx, a, o, true)
		if err != nil {
			return err
		}
		if (want == BankAccount) != (in.Bank != nil) {
			return ErrDetailsKind
		}
		rec := DetailsRecord{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), AgreementID: o.AgreementID, ProviderID: o.ProviderID,
			Kind: want, Status: DetailsPending, SetBy: a.Subject, SetAt: s.timestamp(), SetReason: strings.TrimSpace(in.Reason), KeyID: s.keys.Current()}
		if in.Bank != nil {
			name, err := bacs.NormaliseName(in.Bank.AccountName.Reveal())
			if err != nil {
				return err
			}
			acct := secret.NewBankAccount(in.Bank.SortCode.Reveal(), in.Bank.AccountNumber.Reveal(), name)
			m := acct.Masked()
			rec.MaskedSortCode, rec.MaskedNumber = &m.SortCode, m.AccountNumber
			if rec.Sealed, err = s.keys.SealBankAccount(acct, a.CouncilID, rec.ID); err != nil {
				return err
			}
		} else {
			rec.MaskedNumber = in.Card.Mask()
			if rec.Sealed, err = s.keys.SealValue(*in.Card, secret.Binding{CouncilID: a.CouncilID, RecordID: rec.ID, Purpose: secret.PurposeCardReference}); err != nil {
				return err
			}
		}
		rows, err := s.store.Details(ctx, a.CouncilID, o.id(), true)
		if err != nil {
			return err
		}
		replaced := ""
		if p := viewOf(rows).Pending; p != nil {
			if err := s.store.SupersedeDetails(ctx, a.CouncilID, p.ID, rec.SetAt); err != nil {
				return err
			}
			replaced = p.ID.String()
		}
		if err := s.store.InsertDetails(ctx, rec); err != nil {
			return err
		}
		if rows, err = s.store.Details(ctx, a.CouncilID, o.id(), false); err != nil {
			return err
		}
		out = viewOf(rows)
		// The audit trail says that details changed and who changed them, never what they are.
		return s.audit.Record(ctx, a, audit.Event{Action: "payment_details.set", EntityType: ownerEntity(o), EntityID: o.id(),
			ChangedFields: []string{string(want)}, Reason: rec.SetReason,
			Details: map[string]any{"details_id": rec.ID.String(), "kind": string(want), "key_id": rec.KeyID, "replaced_pending_id": replaced}})
	})
	return out, err
}

func ownerEntity(o DetailsOwner) string {
	if o.AgreementID != nil {
		return "direct_payment_agreement"
	}
	return "provider"
}

// ConfirmDetails confirms the owner's pending details: a user other than the one who set them
// keys them again from what the recipient gave them independently, and they must match.
func (s *Service) ConfirmDetails(ctx context.Context, a actor.Actor, o DetailsOwner, in DetailsInput) (DetailsView, error) {
	if s.keys == nil {
		return DetailsView{}, ErrNoKeys
	}
	if (in.Bank == nil) == (in.Card == nil) {
		return DetailsView{}, ErrDetailsInput
	}
	var out DetailsView
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		if _, err := s.owner(ctx, a, o, true); err != nil {
			return err
		}
		rows, err := s.store.Details(ctx, a.CouncilID, o.id(), true)
		if err != nil {
			return err
		}
		v := viewOf(rows)
		if v.Pending == nil {
			return ErrNotPending
		}
		p := *v.Pending
		if p.SetBy == a.Subject {
			return ErrSelfConfirm
		}
		if (p.Kind == BankAccount) != (in.Bank != nil) {
			return ErrDetailsKind
		}
		if !s.matches(a, p, in) {
			return ErrDetailsMismatch
		}
		now := s.timestamp()
		if v.Confirmed != nil {
			if err := s.store.SupersedeDetails(ctx, a.CouncilID, v.Confirmed.ID, now); err != nil {
				return err
			}
		}
		p.Status, p.ConfirmedBy, p.ConfirmedAt = DetailsConfirmed, &a.Subject, &now
		if err := s.store.ConfirmDetails(ctx, p); err != nil {
			return err
		}
		if rows, err = s.store.Details(ctx, a.CouncilID, o.id(), false); err != nil {
			return err
		}
		out = viewOf(rows)
		return s.audit.Record(ctx, a, audit.Event{Action: "payment_details.confirmed", EntityType: ownerEntity(o), EntityID: o.id(),
			ChangedFields: []string{string(p.Kind)}, Details: map[string]any{"details_id": p.ID.String(), "set_by": p.SetBy}})
	})
	return out, err
}

// matches compares what the confirming user keyed with the sealed details, in constant time.
func (s *Service) matches(a actor.Actor, p DetailsRecord, in DetailsInput) bool {
	if p.Kind == BankAccount {
		acct, err := s.keys.OpenBankAccount(p.Sealed, a.CouncilID, p.ID)
		if err != nil {
			return false
		}
		return acct.SortCode.Equal(in.Bank.SortCode) && acct.AccountNumber.Equal(in.Bank.AccountNumber)
	}
	card, err := s.keys.OpenValue(p.Sealed, secret.Binding{CouncilID: a.CouncilID, RecordID: p.ID, Purpose: secret.PurposeCardReference})
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(card.Reveal()), []byte(in.Card.Reveal())) == 1
}

// holdFor is the hold a build puts on an agreement's lines for its recipient's details, or "".
func holdFor(want DetailsKind, d DetailsState) string {
	switch {
	case d.Pending:
		return ReasonDetailsPending
	case d.Confirmed == nil:
		return ReasonNoDetails
	case d.ConfirmedBack:
		return ReasonDetailsReturned
	case *d.Confirmed != want:
		return ReasonDetailsMismatch
	}
	return ""
}
