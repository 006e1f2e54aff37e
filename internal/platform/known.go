package platform

import (
	"bytes"
	"context"
	"hash/maphash"
	"slices"
	"strings"
	"time"
)

// knownAccounts is what the store held when a sync began: the snapshot the
// authorizer list is compared with. A provider may have a million accounts,
// so it is kept small (about 60 bytes an account): the appids in one byte
// slice, searched through a sorted index, and of each refresh token only a
// hash, whose seed is new for every sync. A map of the states with their
// decrypted tokens, beside the whole list, took several hundred bytes an
// account.
type knownAccounts struct {
	ids   []byte   // the appids, one after the other
	ends  []uint32 // where each appid ends in ids
	items []knownAccount
	order []uint32 // the items' indexes in the byte order of their appids
	seed  maphash.Seed
}

// knownAccount is one stored account as a sync compares it.
type knownAccount struct {
	authTime, infoSynced int64  // unix microseconds; 0 for none
	token                uint64 // tokenHash of the refresh token; 0 for none
	revoked              bool
	listed               bool // the list showed it during this sync
}

// loadKnown reads the snapshot from the store.
func loadKnown(ctx context.Context, store Store, componentAppID string) (*knownAccounts, error) {
	k := &knownAccounts{seed: maphash.MakeSeed()}
	err := store.EachAuthorizerState(ctx, componentAppID, func(st AuthorizerState) error {
		k.ids = append(k.ids, st.AppID...)
		k.ends = append(k.ends, uint32(len(k.ids)))
		k.items = append(k.items, knownAccount{authTime: micros(st.AuthTime), infoSynced: micros(st.InfoSyncedAt),
			token: k.tokenHash(st.RefreshToken), revoked: st.Revoked})
		return nil
	})
	if err != nil {
		return nil, err
	}
	k.order = make([]uint32, len(k.items))
	for i := range k.order {
		k.order[i] = uint32(i)
	}
	slices.SortFunc(k.order, func(a, b uint32) int { return bytes.Compare(k.id(a), k.id(b)) })
	return k, nil
}

// id is the appid of item i.
func (k *knownAccounts) id(i uint32) []byte {
	start := uint32(0)
	if i > 0 {
		start = k.ends[i-1]
	}
	return k.ids[start:k.ends[i]]
}

// find returns the item of an appid.
func (k *knownAccounts) find(appID string) (*knownAccount, bool) {
	j, ok := slices.BinarySearchFunc(k.order, appID, func(i uint32, id string) int { return strings.Compare(string(k.id(i)), id) })
	if !ok {
		return nil, false
	}
	return &k.items[k.order[j]], true
}

// tokenHash is 0 for no token. Two tokens share a hash with a chance of
// 2⁻⁶⁴, and the seed differs from one sync to the next, so a changed token
// taken for the stored one is written by the next sync.
func (k *knownAccounts) tokenHash(token string) uint64 {
	if token == "" {
		return 0
	}
	return max(maphash.String(k.seed, token), 1)
}

// unlisted calls fn with the appid of every stored account the list did not show.
func (k *knownAccounts) unlisted(fn func(appID string, it knownAccount) error) error {
	for i := range k.items {
		if !k.items[i].listed {
			if err := fn(string(k.id(uint32(i))), k.items[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// micros is t in unix microseconds (the store's precision), 0 for the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}
