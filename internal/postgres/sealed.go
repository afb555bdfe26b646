package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/payment"
	"github.com/pbudget/pbudget/internal/secret"
)

// SealedStore implements payment.KeyStore over every value the service seals with
// PB_SECRET_KEYS, across councils: recipients' bank and card details, payment files, and
// webhook subscriptions' signing secrets (current and previous). It is what `pbudget
// rotate-keys` re-seals.
type SealedStore struct{ db *DB }

// NewSealedStore returns a SealedStore on db.
func NewSealedStore(db *DB) *SealedStore { return &SealedStore{db: db} }

var _ payment.KeyStore = (*SealedStore)(nil)

// sealedColumn is one sealed column: where it is, how its key id is read, and its purpose.
type sealedColumn struct {
	name    string // SealedValue.Table: the column's name for rotation
	table   string
	column  string
	keyID   string // an SQL expression of the row's key id
	purpose string // an SQL expression of the binding's purpose
	setKey  bool   // the table keeps the key id in key_id, set on reseal
}

// keyIDOf reads the key id from a sealed value's header (internal/secret: version, length, id):
// for tables that do not keep it beside the value.
func keyIDOf(column string) string {
	return fmt.Sprintf("convert_from(substring(%[1]s FROM 3 FOR get_byte(%[1]s, 1)), 'UTF8')", column)
}

var sealedColumns = []sealedColumn{
	{name: "payment_recipient_details", table: "payment_recipient_details", column: "sealed", keyID: "key_id",
		purpose: "CASE kind WHEN 'prepaid_card' THEN '" + secret.PurposeCardReference + "' ELSE '" + secret.PurposeBankAccount + "' END", setKey: true},
	{name: "payment_files", table: "payment_files", column: "sealed", keyID: "key_id", purpose: "'" + secret.PurposeExportFile + "'", setKey: true},
	{name: "webhook_subscriptions.secret", table: "webhook_subscriptions", column: "secret_sealed", keyID: keyIDOf("secret_sealed"),
		purpose: "'" + secret.PurposeWebhookSecret + "'"},
	{name: "webhook_subscriptions.previous_secret", table: "webhook_subscriptions", column: "previous_secret_sealed",
		keyID: keyIDOf("previous_secret_sealed"), purpose: "'" + secret.PurposeWebhookSecret + "'"},
}

func sealedColumnNamed(name string) (sealedColumn, bool) {
	for _, c := range sealedColumns {
		if c.name == name {
			return c, true
		}
	}
	return sealedColumn{}, false
}

// SealedNotUnder implements payment.KeyStore: up to limit values of each column.
func (s *SealedStore) SealedNotUnder(ctx context.Context, keyID string, limit int) ([]payment.SealedValue, error) {
	var parts string
	var args []any
	for i, c := range sealedColumns {
		if i > 0 {
			parts += " UNION ALL "
		}
		parts += fmt.Sprintf(`(SELECT '%s' AS tbl, council_id, id, %s AS purpose, %s AS sealed FROM %s WHERE %s IS NOT NULL AND %s <> ? LIMIT ?)`,
			c.name, c.purpose, c.column, c.table, c.column, c.keyID)
		args = append(args, keyID, limit)
	}
	var rows []struct {
		Tbl       string
		CouncilID uuid.UUID
		ID        uuid.UUID
		Purpose   string
		Sealed    []byte
	}
	if err := s.db.conn(ctx).Raw(parts, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := make([]payment.SealedValue, len(rows))
	for i, r := range rows {
		out[i] = payment.SealedValue{Table: r.Tbl, CouncilID: r.CouncilID, ID: r.ID, Purpose: r.Purpose, Sealed: r.Sealed}
	}
	return out, nil
}

// Reseal implements payment.KeyStore: the value is replaced only if it is still v.Sealed.
func (s *SealedStore) Reseal(ctx context.Context, v payment.SealedValue, sealed []byte, keyID string) (bool, error) {
	c, ok := sealedColumnNamed(v.Table)
	if !ok {
		return false, fmt.Errorf("reseal: unknown sealed column %q", v.Table)
	}
	set, args := c.column+" = ?", []any{sealed}
	if c.setKey {
		set += ", key_id = ?"
		args = append(args, keyID)
	}
	args = append(args, uuidArg(v.CouncilID), uuidArg(v.ID), v.Sealed)
	res := s.db.conn(ctx).Exec(`UPDATE `+c.table+` SET `+set+` WHERE council_id = ? AND id = ? AND `+c.column+` = ?`, args...)
	return res.RowsAffected == 1, translate(res.Error, nil)
}

// KeyCounts implements payment.KeyStore: the stored values of every column by key id.
func (s *SealedStore) KeyCounts(ctx context.Context) (map[string]int, error) {
	var parts string
	for i, c := range sealedColumns {
		if i > 0 {
			parts += " UNION ALL "
		}
		parts += fmt.Sprintf(`SELECT %s AS key_id, count(*) AS n FROM %s WHERE %s IS NOT NULL GROUP BY 1`, c.keyID, c.table, c.column)
	}
	var rows []struct {
		KeyID string
		N     int
	}
	if err := s.db.conn(ctx).Raw(`SELECT key_id, sum(n)::int AS n FROM (` + parts + `) x GROUP BY key_id`).Scan(&rows).Error; err != nil {
		return nil, translate(err, nil)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.KeyID] = r.N
	}
	return out, nil
}
