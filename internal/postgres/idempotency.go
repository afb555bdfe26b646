package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/pbudget/pbudget/internal/idempotency"
)

type idempotencyRow struct {
	CouncilID    uuid.UUID `gorm:"primaryKey"`
	ActorSubject string    `gorm:"primaryKey"`
	Key          string    `gorm:"primaryKey"`
	RequestHash  []byte
	StatusCode   int
	Headers      []byte `gorm:"type:jsonb"`
	Body         []byte
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

// IdempotencyStore implements idempotency.Store.
type IdempotencyStore struct{ db *DB }

// NewIdempotencyStore returns an IdempotencyStore.
func NewIdempotencyStore(db *DB) *IdempotencyStore { return &IdempotencyStore{db: db} }

// TryLock implements idempotency.Store with a transaction-scoped advisory lock on the key's hash.
func (s *IdempotencyStore) TryLock(ctx context.Context, k idempotency.Key) (bool, error) {
	if !InTx(ctx) {
		return false, errors.New("idempotency lock outside a transaction")
	}
	var ok bool // the transaction's first statement: BEGIN goes with it (ownTx.send)
	err := s.db.queryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))`, []any{LockName(k)}, &ok)
	return ok, translate(err, nil)
}

// LockName is the text whose hash is the advisory lock of key k (length-prefixed, so that no two
// keys share it).
func LockName(k idempotency.Key) string {
	return fmt.Sprintf("idempotency:%s:%d:%s:%s", k.CouncilID, len(k.Subject), k.Subject, k.Key)
}

// Get implements idempotency.Store.
func (s *IdempotencyStore) Get(ctx context.Context, k idempotency.Key, now time.Time) (*idempotency.Response, error) {
	var r idempotencyRow
	err := s.db.conn(ctx).
		Where("council_id = ? AND actor_subject = ? AND key = ? AND expires_at > ?", k.CouncilID, k.Subject, k.Key, now).
		Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, translate(err, nil)
	}
	var h http.Header
	if err := json.Unmarshal(r.Headers, &h); err != nil {
		return nil, translate(err, nil)
	}
	return &idempotency.Response{RequestHash: r.RequestHash, Status: r.StatusCode, Header: h, Body: r.Body}, nil
}

// Put implements idempotency.Store, replacing an expired response under the same key.
func (s *IdempotencyStore) Put(ctx context.Context, k idempotency.Key, resp idempotency.Response, now, expires time.Time) error {
	h, err := json.Marshal(resp.Header)
	if err != nil {
		return err
	}
	// The response is the command's last statement: it waits to go with the COMMIT.
	return s.db.deferStatement(ctx, putResponseSQL, uuidArg(k.CouncilID), k.Subject, k.Key, resp.RequestHash,
		resp.Status, h, resp.Body, now, expires)
}

const putResponseSQL = `INSERT INTO idempotency_keys (council_id, actor_subject, key, request_hash, status_code, headers, body, created_at, expires_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
	ON CONFLICT (council_id, actor_subject, key) DO UPDATE SET request_hash = EXCLUDED.request_hash,
	  status_code = EXCLUDED.status_code, headers = EXCLUDED.headers, body = EXCLUDED.body,
	  created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at`

// DeleteExpired implements idempotency.Store.
func (s *IdempotencyStore) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.conn(ctx).Where("expires_at <= ?", now).Delete(&idempotencyRow{})
	return res.RowsAffected, translate(res.Error, nil)
}
