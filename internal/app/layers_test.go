package app_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/trafficmaster/trafficmaster"

// TestOnlyTheRootImportsEveryLayer keeps every arrow pointing down: no
// package under internal/ (internal/app included) imports the web console or
// its views, and only the console (web.ForApp), main and the test harness
// import internal/app, which builds everything below them.
func TestOnlyTheRootImportsEveryLayer(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	outer := []string{module + "/web", module + "/views"}
	rootImporters := map[string]bool{module + "/cmd/trafficmaster": true, module + "/web": true, module + "/web/webtest": true}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "tools") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := module + "/" + filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			if imp == module+"/internal/app" && !rootImporters[pkg] {
				t.Errorf("%s imports internal/app: only web (ForApp), main and web/webtest build on the whole program", pkg)
			}
			if !strings.HasPrefix(pkg, module+"/internal/") {
				continue
			}
			for _, o := range outer {
				if imp == o || strings.HasPrefix(imp, o+"/") {
					t.Errorf("%s imports %s: a package under internal/ must not depend on the layers above it", pkg, imp)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d files checked: is the module root right?", checked)
	}
}
