package wechatsim

import (
	"context"
	"fmt"
	"net/http"
	"sync"
)

// Gate holds the operationams requests it matches until it is released, so a
// test can make calls overlap for certain, or keep work in flight while it
// acts, instead of hoping a delay is long enough.
type Gate struct {
	appID, action string

	mu       sync.Mutex
	arrived  int
	changed  chan struct{} // closed and replaced on every arrival
	released chan struct{}
	once     sync.Once
}

// Hold installs a gate for action on appID ("" matches every account, and
// every action). Requests that pass the token checks wait at the gate, each
// counted on arrival, until Release (or until their client gives up).
func (s *Sim) Hold(appID, action string) *Gate {
	g := &Gate{appID: appID, action: action, changed: make(chan struct{}), released: make(chan struct{})}
	s.mu.Lock()
	s.gates = append(s.gates, g)
	s.mu.Unlock()
	return g
}

func (g *Gate) matches(appID, action string) bool {
	return (g.appID == "" || g.appID == appID) && (g.action == "" || g.action == action)
}

// Release lets every held request and every later one through. It may be
// called more than once.
func (g *Gate) Release() { g.once.Do(func() { close(g.released) }) }

// Arrived counts the requests that reached the gate, held or let through.
func (g *Gate) Arrived() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.arrived
}

// WaitArrived blocks until at least n requests reached the gate.
func (g *Gate) WaitArrived(ctx context.Context, n int) error {
	for {
		g.mu.Lock()
		got, ch := g.arrived, g.changed
		g.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wechatsim: %d of %d requests reached the gate: %w", got, n, ctx.Err())
		}
	}
}

// pass counts the request and waits for the release; false means the client
// gave up first.
func (g *Gate) pass(r *http.Request) bool {
	g.mu.Lock()
	g.arrived++
	close(g.changed)
	g.changed = make(chan struct{})
	g.mu.Unlock()
	select {
	case <-g.released:
		return true
	case <-r.Context().Done():
		return false
	}
}

// waitAtGates holds the request at every gate that matches it.
func (s *Sim) waitAtGates(r *http.Request, appID, action string) bool {
	s.mu.Lock()
	var gates []*Gate
	for _, g := range s.gates {
		if g.matches(appID, action) {
			gates = append(gates, g)
		}
	}
	s.mu.Unlock()
	for _, g := range gates {
		if !g.pass(r) {
			return false
		}
	}
	return true
}
