package wechat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The types below read the fields WeChat's pages and replies disagree about:
// a number sent as a string, a list sent as a single object, a boolean where
// a number is meant. Each accepts every reading seen and refuses anything else.

// unquote returns the JSON string's content, or the literal itself for
// non-strings; isString reports which.
func unquote(b []byte) (s string, isString bool, err error) {
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '"' {
		var v string
		if err := json.Unmarshal(t, &v); err != nil {
			return "", false, err
		}
		return strings.TrimSpace(v), true, nil
	}
	return string(t), false, nil
}

// Int is an integer WeChat may send as a number or as a numeric string
// (mail_send_cnt, tmpl_type); null and "" read as 0.
type Int int64

// UnmarshalJSON accepts 12, "12", 12.0, "", null, true and false.
func (n *Int) UnmarshalJSON(b []byte) error {
	s, _, err := unquote(b)
	if err != nil {
		return err
	}
	switch s {
	case "", "null", "false":
		*n = 0
		return nil
	case "true":
		*n = 1
		return nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = Int(v)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return fmt.Errorf("wechat: %q is not an integer", s)
	}
	*n = Int(f)
	return nil
}

// Fen is an amount of money in fen (1/100 yuan), the unit of every amount the
// ams family reports. It is an integer so sums are exact.
type Fen int64

// Yuan formats the amount as yuan with two decimals, for display.
func (f Fen) Yuan() string {
	sign := ""
	v := int64(f)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// UnmarshalJSON accepts a number or a numeric string; a fraction of a fen
// (seen in hand-written examples) is rounded half away from zero. A boolean,
// which one page gives as agency_income's type, reads as 0: it cannot carry
// an amount.
func (f *Fen) UnmarshalJSON(b []byte) error {
	s, _, err := unquote(b)
	if err != nil {
		return err
	}
	switch s {
	case "", "null", "false", "true":
		*f = 0
		return nil
	}
	v, err := parseFen(s)
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// parseFen reads a decimal without going through float64 when it can, so
// large amounts keep every fen.
func parseFen(s string) (Fen, error) {
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	whole, frac, hasDot := strings.Cut(digits, ".")
	if !strings.ContainsAny(digits, "eE") && whole != "" && allDigits(whole) && (!hasDot || allDigits(frac)) {
		v, err := strconv.ParseInt(whole, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("wechat: amount %q out of range", s)
		}
		if frac != "" && frac[0] >= '5' {
			v++
		}
		if neg {
			v = -v
		}
		return Fen(v), nil
	}
	fl, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(fl, 0) || math.IsNaN(fl) || math.Abs(fl) > 1<<53 {
		return 0, fmt.Errorf("wechat: %q is not an amount", s)
	}
	return Fen(math.Round(fl)), nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Decimal is a measure that is not money (eCPM in fen per thousand
// exposures, exposure and click rates 0..1), kept as WeChat wrote it.
type Decimal string

// Float64 returns the value, or 0 when it is empty or not a number.
func (d Decimal) Float64() float64 {
	f, err := strconv.ParseFloat(string(d), 64)
	if err != nil {
		return 0
	}
	return f
}

// UnmarshalJSON accepts a number or a numeric string.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	s, _, err := unquote(b)
	if err != nil {
		return err
	}
	if s == "" || s == "null" {
		*d = ""
		return nil
	}
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return fmt.Errorf("wechat: %q is not a number", s)
	}
	*d = Decimal(s)
	return nil
}

// Text is an identifier WeChat may send as a string or as a number (tmpl_id).
type Text string

// UnmarshalJSON accepts a string, a number or null.
func (t *Text) UnmarshalJSON(b []byte) error {
	s, isString, err := unquote(b)
	if err != nil {
		return err
	}
	switch {
	case isString:
	case s == "null":
		s = ""
	default:
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return fmt.Errorf("wechat: %s is neither a string nor a number", s)
		}
	}
	*t = Text(s)
	return nil
}

// List is a list WeChat may send as an array, as a single object when there
// is one element (ad_unit_size, stat_item), or as null.
type List[T any] []T

// UnmarshalJSON accepts [..], {..} and null.
func (l *List[T]) UnmarshalJSON(b []byte) error {
	t := bytes.TrimSpace(b)
	switch {
	case len(t) == 0 || string(t) == "null":
		*l = nil
		return nil
	case t[0] == '[':
		var v []T
		if err := json.Unmarshal(t, &v); err != nil {
			return err
		}
		*l = v
		return nil
	case t[0] == '{':
		var v T
		if err := json.Unmarshal(t, &v); err != nil {
			return err
		}
		*l = List[T]{v}
		return nil
	}
	return errors.New("wechat: expected an array or an object")
}

// SceneList is a list of WeChat scene values, sent as a comma-separated
// string ("1001,1011") and read from that or from an array.
type SceneList []int

// String writes the list as the request wants it.
func (s SceneList) String() string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ",")
}

// UnmarshalJSON accepts "1001,1011", [1001, 1011], ["1001"] and null.
func (s *SceneList) UnmarshalJSON(b []byte) error {
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '[' {
		var v []Int
		if err := json.Unmarshal(t, &v); err != nil {
			return err
		}
		out := make(SceneList, len(v))
		for i, n := range v {
			out[i] = int(n)
		}
		*s = out
		return nil
	}
	str, _, err := unquote(t)
	if err != nil {
		return err
	}
	if str == "null" {
		str = ""
	}
	out := SceneList{}
	for _, p := range strings.FieldsFunc(str, func(r rune) bool { return r == ',' || r == '|' || r == ' ' }) {
		n, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("wechat: scene %q is not a number", p)
		}
		out = append(out, n)
	}
	*s = out
	return nil
}

// presentKeys lists the top-level keys of a JSON object, to tell an absent
// field from a zero one where WeChat uses two spellings.
func presentKeys(b []byte) map[string]bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	out := make(map[string]bool, len(m))
	for k, v := range m {
		if string(bytes.TrimSpace(v)) != "null" {
			out[k] = true
		}
	}
	return out
}
