package payment

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/date"
)

func TestALaterRecordedAmountReplacesEveryAmountFromItsDateOn(t *testing.T) {
	t.Parallel()
	rec := func(from string, annual int64) AmountRecord {
		return AmountRecord{EffectiveFrom: mustDate(from), Annual: annual}
	}
	tests := []struct {
		name    string
		history []AmountRecord
		want    []Amount
	}{
		{"the first amount", []AmountRecord{rec("2026-04-06", 100)}, []Amount{{mustDate("2026-04-06"), 100, 100}}},
		{"a revision from a later day", []AmountRecord{rec("2026-04-06", 100), rec("2026-06-01", 200)},
			[]Amount{{mustDate("2026-04-06"), 100, 100}, {mustDate("2026-06-01"), 200, 200}}},
		{"a backdated contribution recorded after a revision replaces it", []AmountRecord{rec("2026-04-06", 100), rec("2026-06-01", 200), rec("2026-05-01", 150)},
			[]Amount{{mustDate("2026-04-06"), 100, 100}, {mustDate("2026-05-01"), 150, 150}}},
		{"a repricing from the start replaces everything", []AmountRecord{rec("2026-04-06", 100), rec("2026-06-01", 200), rec("2026-04-06", 90)},
			[]Amount{{mustDate("2026-04-06"), 90, 90}}},
		{"the same day twice: the later one", []AmountRecord{rec("2026-04-06", 100), rec("2026-06-01", 200), rec("2026-06-01", 250)},
			[]Amount{{mustDate("2026-04-06"), 100, 100}, {mustDate("2026-06-01"), 250, 250}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, amountsInForce(tt.history))
		})
	}
}

func TestReferencesAreShortCodesAndPeopleAreNeverNamed(t *testing.T) {
	t.Parallel()
	id := mustUUID("01a234b4-39bf-7528-a497-0f0f98c5bc50")
	require.Equal(t, "ISF-0F0F98C5BC50", Reference("ISF", id, 12))
	require.Equal(t, "01a234b439bf7528a4970f0f98c5bc50", PersonReference(id))
}

func mustDate(s string) date.Date {
	d, err := date.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func mustUUID(s string) uuid.UUID { return uuid.MustParse(s) }
