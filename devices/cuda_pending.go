package devices

import (
	"fmt"

	"discover/device"
)

func cudaAvailable() bool { return false }

func openCUDA(int) (device.Device, error) {
	return nil, fmt.Errorf("cuda: %w", device.ErrUnavailable)
}
