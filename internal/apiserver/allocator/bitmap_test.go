package allocator

import (
	"bytes"
	"math/big"
	"testing"
)

func TestStaticBand(t *testing.T) {
	tests := []struct {
		name               string
		size, lo, step, hi int
		want               int
	}{
		{"ip /28", 16, 16, 16, 256, 0},
		{"ip /27", 32, 16, 16, 256, 16},
		{"ip /24", 256, 16, 16, 256, 16},
		{"ip /20", 4096, 16, 16, 256, 256},
		{"ip /21", 2048, 16, 16, 256, 128},
		{"ip /12", 1 << 20, 16, 16, 256, 256},
		{"ports 16", 16, 16, 32, 128, 0},
		{"ports 17", 17, 16, 32, 128, 16},
		{"ports default", 2768, 16, 32, 128, 86},
		{"ports 4096", 4096, 16, 32, 128, 128},
		{"ports 65535", 65535, 16, 32, 128, 128},
	}
	for _, tt := range tests {
		if got := staticBand(tt.size, tt.lo, tt.step, tt.hi); got != tt.want {
			t.Errorf("%s: staticBand = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestBitmapFirstFree(t *testing.T) {
	b := newBitmap(200, 0)
	for i := range 130 {
		b.allocate(i)
	}
	b.release(70)
	tests := []struct{ from, to, want int }{
		{0, 200, 70},
		{71, 200, 130},
		{71, 130, -1},
		{0, 70, -1},
		{199, 200, 199},
		{5, 5, -1},
	}
	for _, tt := range tests {
		if got := b.firstFree(tt.from, tt.to); got != tt.want {
			t.Errorf("firstFree(%d, %d) = %d, want %d", tt.from, tt.to, got, tt.want)
		}
	}
}

// The snapshot encoding is math/big's Int.Bytes of the bit set, as
// upstream's RangeAllocation.data.
func TestBitmapSnapshotMatchesBigInt(t *testing.T) {
	for _, marks := range [][]int{{}, {0}, {7}, {8}, {63, 64}, {0, 100, 4093}} {
		b := newBitmap(4094, 256)
		want := new(big.Int)
		for _, i := range marks {
			b.allocate(i)
			want.SetBit(want, i, 1)
		}
		got := b.snapshot()
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("marks %v: snapshot %x, want %x", marks, got, want.Bytes())
		}
		c := newBitmap(4094, 256)
		if err := c.restore(got); err != nil || c.used() != len(marks) {
			t.Errorf("marks %v: restore %v, used %d", marks, err, c.used())
		}
		for _, i := range marks {
			if !c.has(i) {
				t.Errorf("marks %v: %d lost", marks, i)
			}
		}
	}
}

func TestBitmapRestoreRejectsOutOfRange(t *testing.T) {
	b := newBitmap(10, 0)
	for _, data := range [][]byte{{0x04, 0x00}, {0x01, 0x00, 0x00}} { // bit 10, bit 16
		if err := b.restore(data); err == nil {
			t.Errorf("restore(%x) accepted bits past size 10", data)
		}
	}
	if err := b.restore([]byte{0x02, 0x01}); err != nil || b.used() != 2 { // bits 9 and 0
		t.Errorf("restore: %v, used %d", err, b.used())
	}
}
