package payment

import (
	"context"

	"github.com/pbudget/pbudget/internal/secret"
)

// RotateKeys re-seals, in batches, every stored value (recipients' details, export files, webhook
// subscriptions' signing secrets) sealed with a key other than the ring's current one, and
// returns how many it re-sealed and how many values each key still seals (the secret package's rotation, step 2). Each value is replaced only
// if it is unchanged since it was read, so it can run beside the service.
func RotateKeys(ctx context.Context, store KeyStore, keys *secret.KeyRing, batch int) (int, map[string]int, error) {
	done := 0
	for {
		values, err := store.SealedNotUnder(ctx, keys.Current(), batch)
		if err != nil {
			return done, nil, err
		}
		if len(values) == 0 {
			break
		}
		progress := false
		for _, v := range values {
			sealed, err := keys.Rotate(v.Sealed, secret.Binding{CouncilID: v.CouncilID, RecordID: v.ID, Purpose: v.Purpose})
			if err != nil {
				return done, nil, err
			}
			ok, err := store.Reseal(ctx, v, sealed, keys.Current())
			if err != nil {
				return done, nil, err
			}
			if ok {
				done, progress = done+1, true
			}
		}
		if !progress {
			break // every value of the batch changed meanwhile, under the current key
		}
	}
	counts, err := store.KeyCounts(ctx)
	return done, counts, err
}
