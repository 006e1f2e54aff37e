package secretbox

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	b, err := New(bytes.Repeat([]byte{7}, 32))
	require.NoError(t, err)
	a1, err := b.Seal([]byte("refreshtoken@@@abc"))
	require.NoError(t, err)
	a2, err := b.Seal([]byte("refreshtoken@@@abc"))
	require.NoError(t, err)
	require.NotEqual(t, a1, a2, "random nonce")
	require.NotContains(t, string(a1), "refreshtoken")
	p, err := b.Open(a1)
	require.NoError(t, err)
	require.Equal(t, "refreshtoken@@@abc", string(p))

	a1[len(a1)-1] ^= 1
	_, err = b.Open(a1)
	require.ErrorIs(t, err, ErrOpen)
	_, err = b.Open([]byte("short"))
	require.ErrorIs(t, err, ErrOpen)
	other, _ := New(bytes.Repeat([]byte{8}, 32))
	_, err = other.Open(a2)
	require.ErrorIs(t, err, ErrOpen)
	_, err = New([]byte("short"))
	require.Error(t, err)
}
