package page

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func ptr[T any](v T) *T { return &v }

func TestTokenRoundTripsTheLastItemOfAFullPage(t *testing.T) {
	t.Parallel()
	fp := Fingerprint("family_name_prefix=Smi")
	r, err := Parse(ptr(2), nil, fp)
	require.NoError(t, err)
	now := time.Date(2026, 4, 6, 10, 0, 0, 123456000, time.UTC)
	items := []Cursor{{now, uuid.New()}, {now.Add(time.Second), uuid.New()}, {now.Add(2 * time.Second), uuid.New()}}
	got, next := Result(items, r, fp, func(c Cursor) Cursor { return c })
	require.Len(t, got, 2)
	require.NotNil(t, next)

	r2, err := Parse(ptr(2), next, fp)
	require.NoError(t, err)
	require.Equal(t, items[1].ID, r2.After.ID)
	require.True(t, items[1].Time.Equal(r2.After.Time))
}

func TestLastPageHasNoToken(t *testing.T) {
	t.Parallel()
	r, _ := Parse(nil, nil, 0)
	require.Equal(t, DefaultSize, r.Size)
	_, next := Result([]int{1, 2}, r, 0, func(int) Cursor { return Cursor{} })
	require.Nil(t, next)
}

func TestParseRejectsForeignOrBrokenTokens(t *testing.T) {
	t.Parallel()
	r, _ := Parse(ptr(1), nil, Fingerprint("a"))
	_, next := Result([]Cursor{{time.Now(), uuid.New()}, {time.Now(), uuid.New()}}, r, Fingerprint("a"), func(c Cursor) Cursor { return c })
	for name, tok := range map[string]string{
		"not base64":    "%%%",
		"not json":      "bm90IGpzb24",
		"other filters": *next,
	} {
		_, err := Parse(nil, &tok, Fingerprint("b"))
		require.ErrorIs(t, err, ErrBadToken, name)
	}
}

func TestParseClampsSize(t *testing.T) {
	t.Parallel()
	r, _ := Parse(ptr(1000), nil, 0)
	require.Equal(t, MaxSize, r.Size)
}
