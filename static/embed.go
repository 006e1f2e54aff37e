// Package static embeds the console's CSS, scripts and images and serves them
// under content-hashed URLs so browsers can cache them forever.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
	"sync"
)

//go:embed *.css *.js vendor img
var files embed.FS

var hashes = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(files, p)
		h := sha256.Sum256(b)
		m[p] = hex.EncodeToString(h[:])[:12]
		return nil
	})
	return m
})

// urls are the embedded files' URLs, built once: pages name an asset on
// every row.
var urls = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for name, h := range hashes() {
		m[name] = "/static/" + name + "?v=" + h
	}
	return m
})

// URL returns the cache-busted URL of an embedded file, e.g. /static/app.css?v=1a2b3c.
func URL(name string) string {
	if u, ok := urls()[name]; ok {
		return u
	}
	return "/static/" + name + "?v="
}

// Handler serves the embedded files (never a directory listing); versioned
// URLs are cacheable for a year.
func Handler() http.Handler {
	fsrv := http.StripPrefix("/static/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		// Files only: a directory would be listed.
		if st, err := fs.Stat(files, strings.TrimSuffix(name, "/")); name == "" || err != nil || st.IsDir() {
			http.NotFound(w, r)
			return
		}
		if v := r.URL.Query().Get("v"); v != "" && v == hashes()[name] {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		fsrv.ServeHTTP(w, r)
	})
}
