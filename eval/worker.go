package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"discover/device"
	"discover/kernel"
	"discover/target"
)

// The worker speaks JSON lines on two pipes of its own (fd 3 in, fd 4 out),
// so whatever a kernel prints (OpenCL printf writes to stdout) can never
// corrupt the protocol.

// hello is the worker's first message: the device it opened, or why not.
type hello struct {
	Info  device.Info `json:"info"`
	Error string      `json:"error,omitempty"`
}

type request struct {
	ID    int         `json:"id"`
	Spec  kernel.Spec `json:"spec"`
	Nonce uint64      `json:"nonce"`
}

type response struct {
	ID     int    `json:"id"`
	Result Result `json:"result"`
	// Fatal: the device context is lost; the worker exits after answering.
	Fatal bool `json:"fatal,omitempty"`
}

// Serve runs the worker loop: open the device, compile the target's seed,
// then answer one request per line until in closes or a fault makes the
// context unusable.
func Serve(ctx context.Context, open func() (device.Device, error), t *target.Target, opts func(device.Dialect) Options, in io.Reader, out io.Writer) error {
	enc := json.NewEncoder(out)
	dev, err := open()
	if err != nil {
		_ = enc.Encode(hello{Error: err.Error()})
		return err
	}
	defer dev.Close()
	ev, err := New(ctx, dev, t, opts(dev.Dialect()))
	if err != nil {
		_ = enc.Encode(hello{Info: dev.Info(), Error: err.Error()})
		return err
	}
	defer ev.Close()
	if err := enc.Encode(hello{Info: dev.Info()}); err != nil {
		return err
	}
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 1<<20), 64<<20)
	for scanner.Scan() {
		var req request
		if err := json.Unmarshal(scanner.Bytes(), &req); err != nil {
			return fmt.Errorf("worker: bad request: %w", err)
		}
		res, fatal := ev.Evaluate(ctx, req.Spec, req.Nonce)
		if err := enc.Encode(response{ID: req.ID, Result: res, Fatal: fatal != nil}); err != nil {
			return err
		}
		if fatal != nil {
			return fatal
		}
	}
	return scanner.Err()
}
