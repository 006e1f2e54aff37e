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

// TestOnlyTheRootImportsEveryLayer keeps internal/app the top of the house:
// dependencies point inward, so no package below it imports the web console
// or its views, and only main and the test harness import the root itself.
func TestOnlyTheRootImportsEveryLayer(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	outer := []string{module + "/web", module + "/views", module + "/internal/app"}
	rootImporters := map[string]bool{module + "/cmd/trafficmaster": true, module + "/web/webtest": true}
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
				t.Errorf("%s imports internal/app: only main and web/webtest build the whole program", pkg)
			}
			if !strings.HasPrefix(pkg, module+"/internal/") || pkg == module+"/internal/app" {
				continue
			}
			for _, o := range outer {
				if imp == o || strings.HasPrefix(imp, o+"/") {
					t.Errorf("%s imports %s: a package under internal/ must not depend on the layers above it (only internal/app wires them)", pkg, imp)
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
