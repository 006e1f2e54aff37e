package wechatsim

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Outage serves a handler (the simulator's) on a fixed loopback address that
// can go away, so that calls are refused with nothing sent, and come back on
// the same address: a short WeChat outage as a client sees it.
type Outage struct {
	// URL is where the handler is served while it is up.
	URL string

	h    http.Handler
	addr string
	mu   sync.Mutex
	srv  *http.Server
}

// NewOutage starts serving h on a free loopback port.
func NewOutage(h http.Handler) (*Outage, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	o := &Outage{h: h, addr: l.Addr().String()}
	o.URL = "http://" + o.addr
	o.serve(l)
	return o, nil
}

func (o *Outage) serve(l net.Listener) {
	o.mu.Lock()
	defer o.mu.Unlock()
	srv := &http.Server{Handler: o.h, ReadHeaderTimeout: 5 * time.Second}
	o.srv = srv
	go func() { _ = srv.Serve(l) }()
}

// Down stops listening: connections are refused until Up.
func (o *Outage) Down() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.srv != nil {
		_ = o.srv.Close()
		o.srv = nil
	}
}

// Up listens again on the same address.
func (o *Outage) Up() error {
	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	o.serve(l)
	return nil
}
