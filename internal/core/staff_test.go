package core_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
)

func TestRoles(t *testing.T) {
	t.Parallel()
	require.True(t, core.RoleAdmin.AtLeast(core.RoleOperator))
	require.True(t, core.RoleOperator.AtLeast(core.RoleOperator))
	require.False(t, core.RoleViewer.AtLeast(core.RoleOperator))
	require.False(t, core.Role("root").AtLeast(core.RoleViewer), "unknown roles grant nothing")
	require.False(t, core.Role("").Valid())
	var nobody *core.Staff
	require.False(t, nobody.CanOperate())
}

func TestErrorsNeverLeakInternalText(t *testing.T) {
	t.Parallel()
	internal := fmt.Errorf("wrap: %w", errors.New("pq: password authentication failed for user secret"))
	require.Equal(t, core.EINTERNAL, core.ErrorCode(internal))
	require.Equal(t, "An internal error occurred.", core.ErrorMessage(internal))
	e := fmt.Errorf("ctx: %w", core.FieldError("name", "Name %q is bad.", "x"))
	require.Equal(t, core.EINVALID, core.ErrorCode(e))
	require.Equal(t, `Name "x" is bad.`, core.ErrorMessage(e))
	require.Equal(t, `<Name "x" is bad.>`, core.Translate(e, func(f string, a ...any) string { return "<" + fmt.Sprintf(f, a...) + ">" }))
}
