package postgres

import (
	"bytes"
	"encoding/gob"
	"maps"
	"sync"
	"time"
)

// Every request of a signed-in staff member decodes the same cookie and the
// same few bytes of session data. Each decode builds a gob decoder afresh
// (the cookie's token is gob-encoded too), which cost more of the console's
// CPU than anything but rendering the page. Both decodes are remembered.

// maxDecoded bounds each cache; a full cache is emptied and starts again.
const maxDecoded = 4096

// cookieCheck is how long a decoded cookie is trusted without checking its
// signature and age again. The cookie's age limit (SESSION_ABSOLUTE_TIMEOUT)
// is never the one that ends a session: the row's expires_at counts the same
// time from the session's creation, before the cookie was last written.
const cookieCheck = time.Minute

type decodedCookie struct {
	token   string
	checked time.Time
}

type decodeCache struct {
	mu      sync.RWMutex
	cookies map[string]decodedCookie
	values  map[string]map[any]any
}

// token returns the session token of a cookie value.
func (s *SessionStore) token(name, value string) (string, error) {
	now := s.Now()
	key := name + "=" + value
	s.cache.mu.RLock()
	d, ok := s.cache.cookies[key]
	s.cache.mu.RUnlock()
	if ok && now.Sub(d.checked) < cookieCheck && !now.Before(d.checked) {
		return d.token, nil
	}
	var token string
	if err := s.codec.Decode(name, value, &token); err != nil {
		return "", err
	}
	s.cache.mu.Lock()
	if s.cache.cookies == nil || len(s.cache.cookies) >= maxDecoded {
		s.cache.cookies = map[string]decodedCookie{}
	}
	s.cache.cookies[key] = decodedCookie{token: token, checked: now}
	s.cache.mu.Unlock()
	return token, nil
}

// values decodes a session's data. The result is the caller's own map:
// handlers change a session's values (a flash, the platform's state). A
// shallow copy is enough because every value is a string or a number.
func (s *SessionStore) values(data []byte) (map[any]any, error) {
	s.cache.mu.RLock()
	v, ok := s.cache.values[string(data)]
	s.cache.mu.RUnlock()
	if ok {
		return maps.Clone(v), nil
	}
	v = map[any]any{}
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&v); err != nil {
		return nil, err
	}
	s.cache.mu.Lock()
	if s.cache.values == nil || len(s.cache.values) >= maxDecoded {
		s.cache.values = map[string]map[any]any{}
	}
	s.cache.values[string(data)] = maps.Clone(v)
	s.cache.mu.Unlock()
	return v, nil
}
