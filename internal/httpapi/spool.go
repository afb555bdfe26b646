package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"

	"github.com/labstack/echo/v4"

	"github.com/pbudget/pbudget/internal/apperr"
)

// spooledBody is an uploaded file written to a temporary file as it arrived (never held in
// memory), with its size and SHA-256; reading it reads the file from the start.
type spooledBody struct {
	f      *os.File
	size   int64
	sha256 string
	digest []byte
}

// Read implements io.Reader.
func (b *spooledBody) Read(p []byte) (int, error) { return b.f.Read(p) }

// Close implements io.Closer (the file is removed by remove, once the request is answered).
func (b *spooledBody) Close() error { return nil }

// Digest is the file's SHA-256: what the idempotency middleware compares instead of the bytes.
func (b *spooledBody) Digest() []byte { return b.digest }

func (b *spooledBody) remove() {
	b.f.Close()
	os.Remove(b.f.Name())
}

var errUploadTooLarge = apperr.New(apperr.TooLarge, "payload-too-large", "the file is larger than the 64 MiB a statement may be")

// spoolBody streams the request body to a temporary file, at most limit bytes (413 above).
func spoolBody(c echo.Context, limit int64) (*spooledBody, error) {
	req := c.Request()
	if req.ContentLength > limit {
		return nil, errUploadTooLarge
	}
	f, err := os.CreateTemp("", "pbudget-upload-*")
	if err != nil {
		return nil, err
	}
	b := &spooledBody{f: f}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), http.MaxBytesReader(c.Response(), req.Body, limit))
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		b.remove()
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errUploadTooLarge
		}
		return nil, err
	}
	b.size, b.digest = n, h.Sum(nil)
	b.sha256 = hex.EncodeToString(b.digest)
	return b, nil
}
