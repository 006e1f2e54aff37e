// Package migrations embeds the numbered SQL migrations applied at start.
package migrations

import "embed"

// FS holds the goose migrations, applied in file-name order.
//
//go:embed *.sql
var FS embed.FS
