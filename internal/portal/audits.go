package portal

import (
	"context"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/accounts"
	"github.com/pbudget/pbudget/internal/actor"
)

// auditOfAccount checks that auditID names an audit of the account.
func (s *Service) auditOfAccount(ctx context.Context, a actor.Actor, auditID, accountID uuid.UUID) error {
	return accounts.ErrEvidenceTarget.WithMessage("audit_id names no audit of this account")
}
