package web

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// safeCSV writes CSV rows with every cell neutralised against spreadsheet
// formulas (a leading =, +, -, @, tab or CR), whichever column it is in:
// the cells come from WeChat, from staff and from requests. Plain numbers
// (WeChat's negative codes) are left as they are; they are not formulas.
type safeCSV struct{ *csv.Writer }

func newSafeCSV(w io.Writer) safeCSV { return safeCSV{csv.NewWriter(w)} }

// Write neutralises each cell, then writes the row.
func (w safeCSV) Write(row []string) error {
	out := make([]string, len(row))
	for i, v := range row {
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			out[i] = v
			continue
		}
		out[i] = csvSafe(v)
	}
	return w.Writer.Write(out)
}

// csvSafe stops spreadsheet programs from running a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
