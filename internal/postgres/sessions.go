package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/gob"
	"maps"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trafficmaster/trafficmaster/internal/core"
)

// SessionStore is a gorilla/sessions store whose cookie holds only a signed,
// opaque token; the session itself lives in Postgres so that it can be ended
// from the server (logout, disabling a staff member, a password change).
type SessionStore struct {
	Pool    *pgxpool.Pool
	Options *sessions.Options
	// Idle ends a session not used for this long; Absolute ends it regardless.
	Idle, Absolute time.Duration
	Now            func() time.Time
	codec          securecookie.Codec
	cache          decodeCache
}

// StaffIDKey is the session value holding the signed-in staff member's ID.
const StaffIDKey = "staff_id"

// NewSessionStore returns a store signing cookies with hashKey (32+ bytes).
func NewSessionStore(pool *pgxpool.Pool, hashKey []byte, opts *sessions.Options, idle, absolute time.Duration) *SessionStore {
	codec := securecookie.New(hashKey, nil)
	codec.MaxAge(int(absolute.Seconds()))
	return &SessionStore{Pool: pool, Options: opts, Idle: idle, Absolute: absolute, Now: time.Now, codec: codec}
}

// Get returns the request's cached session or loads it.
func (s *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the cookie, or a new empty one when the
// cookie is missing, tampered with, expired or revoked.
func (s *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := *s.Options
	sess.Options = &opts
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	token, err := s.token(name, c.Value)
	if err != nil {
		// A tampered or foreign cookie is treated as no session at all.
		return sess, nil
	}
	ok, err := s.load(r.Context(), token, sess)
	if err != nil {
		return sess, err
	}
	if ok {
		sess.ID = token
		sess.IsNew = false
	}
	return sess, nil
}

// SessionRefresh is how stale a session's last_seen_at may grow before a
// request writes it again. Refreshing on every request made every page view
// (and a run page's poll every 2 seconds) a durable write, and requests of
// one staff member in several tabs queued on that row's lock. Idle expiry
// counts from the last write, so a session may end up to this much sooner
// than SESSION_IDLE_TIMEOUT after its last request, never later.
const SessionRefresh = time.Minute

// refreshAfter is SessionRefresh, or a quarter of a shorter idle timeout.
func (s *SessionStore) refreshAfter() time.Duration {
	return min(SessionRefresh, s.Idle/4)
}

func (s *SessionStore) load(ctx context.Context, token string, sess *sessions.Session) (bool, error) {
	now := s.Now()
	var (
		data []byte
		st   sessionStaffRow
	)
	// One statement reads the session with its staff member and, when
	// last_seen_at is stale, refreshes it; SKIP LOCKED leaves the refresh to
	// a request that holds the row already, so a read never waits on a lock.
	// A fresh session is only read: no write, no commit to flush.
	err := s.Pool.QueryRow(ctx, `WITH refresh AS (
			UPDATE sessions SET last_seen_at = $2 WHERE token_hash = (
				SELECT token_hash FROM sessions WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3 AND last_seen_at < $4
				FOR UPDATE SKIP LOCKED))
		SELECT s.data, st.id, st.username, st.role, st.disabled, st.created_at, st.updated_at
		FROM sessions s LEFT JOIN staff st ON st.id = s.staff_id
		WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3`,
		hashToken(token), now, now.Add(-s.Idle), now.Add(-s.refreshAfter())).
		Scan(&data, &st.id, &st.username, &st.role, &st.disabled, &st.createdAt, &st.updatedAt)
	if notFound(err) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if len(data) > 0 {
		v, err := s.values(data)
		if err != nil {
			return false, nil
		}
		sess.Values = v
	}
	if st := st.staff(); st != nil {
		sess.Values[sessionStaffKey{}] = st
	}
	return true, nil
}

// sessionStaffRow is the staff member a session row names, if any.
type sessionStaffRow struct {
	id                   *int64
	username, role       *string
	disabled             *bool
	createdAt, updatedAt *time.Time
}

func (r *sessionStaffRow) staff() *core.Staff {
	if r.id == nil {
		return nil
	}
	return &core.Staff{ID: *r.id, Username: *r.username, Role: core.Role(*r.role),
		Disabled: *r.disabled, CreatedAt: *r.createdAt, UpdatedAt: *r.updatedAt}
}

// sessionStaffKey holds, among a loaded session's values, the staff member
// read with it; Save never stores it.
type sessionStaffKey struct{}

// Staff returns the staff member signed in to sess as read with the session
// on this request (disabled or not), or nil when nobody is signed in. Reading
// the two together saves every signed-in request a round trip.
func (s *SessionStore) Staff(sess *sessions.Session) *core.Staff {
	st, _ := sess.Values[sessionStaffKey{}].(*core.Staff)
	if id, ok := sess.Values[StaffIDKey].(int64); !ok || sess.IsNew || st == nil || st.ID != id {
		return nil
	}
	return st
}

// Save writes the session and its cookie. A session with MaxAge < 0 is deleted.
// An anonymous session with no values is not stored at all.
func (s *SessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if _, err := s.Pool.Exec(ctx, "DELETE FROM sessions WHERE token_hash = $1", hashToken(sess.ID)); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	if sess.ID == "" && len(sess.Values) == 0 {
		return nil
	}
	values := sess.Values
	if _, ok := values[sessionStaffKey{}]; ok {
		values = maps.Clone(values)
		delete(values, sessionStaffKey{})
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(values); err != nil {
		return err
	}
	var staffID *int64
	if v, ok := sess.Values[StaffIDKey].(int64); ok {
		staffID = &v
	}
	now := s.Now()
	if sess.ID == "" {
		sess.ID = newToken()
		if _, err := s.Pool.Exec(ctx, `INSERT INTO sessions (token_hash, staff_id, data, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)`,
			hashToken(sess.ID), staffID, buf.Bytes(), now, now.Add(s.Absolute)); err != nil {
			return err
		}
	} else if _, err := s.Pool.Exec(ctx, `UPDATE sessions SET data = $2, staff_id = $3, last_seen_at = $4 WHERE token_hash = $1`,
		hashToken(sess.ID), buf.Bytes(), staffID, now); err != nil {
		return err
	}
	encoded, err := s.codec.Encode(sess.Name(), sess.ID)
	if err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), encoded, sess.Options))
	return nil
}

// Renew replaces the session's token (at login), deleting the old row, so a
// token planted before login is worthless afterwards.
func (s *SessionStore) Renew(ctx context.Context, sess *sessions.Session) error {
	if sess.ID != "" {
		if _, err := s.Pool.Exec(ctx, "DELETE FROM sessions WHERE token_hash = $1", hashToken(sess.ID)); err != nil {
			return err
		}
	}
	sess.ID = ""
	sess.IsNew = true
	return nil
}

// DeleteExpired removes sessions past their absolute or idle expiry.
func (s *SessionStore) DeleteExpired(ctx context.Context) (int64, error) {
	now := s.Now()
	tag, err := s.Pool.Exec(ctx, "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2", now, now.Add(-s.Idle))
	return tag.RowsAffected(), err
}

func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}
