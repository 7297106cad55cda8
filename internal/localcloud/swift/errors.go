package swift

import (
	"fmt"
	"net/http"
)

// apiError is an error with the status Swift answers it with. Swift's error
// bodies are small HTML pages (text/plain for request validation errors).
type apiError struct {
	code  int
	title string // the HTML page's <h1>; empty: a text/plain body
	msg   string
}

func (e *apiError) Error() string { return e.msg }

func errNotFound() *apiError {
	return &apiError{code: http.StatusNotFound, title: "Not Found", msg: "The resource could not be found."}
}

func errUnauthorized() *apiError {
	return &apiError{code: http.StatusUnauthorized, title: "Unauthorized",
		msg: "This server could not verify that you are authorized to access the document you requested."}
}

func errForbidden() *apiError {
	return &apiError{code: http.StatusForbidden, title: "Forbidden", msg: "Access was denied to this resource."}
}

func errConflict() *apiError {
	return &apiError{code: http.StatusConflict, title: "Conflict",
		msg: "There was a conflict when trying to complete your request."}
}

func errUnprocessable() *apiError {
	return &apiError{code: http.StatusUnprocessableEntity, title: "Unprocessable Entity",
		msg: "Unable to process the contained instructions"}
}

func errLengthRequired() *apiError {
	return &apiError{code: http.StatusLengthRequired, title: "Length Required", msg: "Length Required"}
}

func errMethodNotAllowed() *apiError {
	return &apiError{code: http.StatusMethodNotAllowed, title: "Method Not Allowed",
		msg: "The method is not allowed for this resource."}
}

func errInternal(err error) *apiError {
	return &apiError{code: http.StatusInternalServerError, title: "Internal Error",
		msg: "An error occurred: " + err.Error()}
}

// errBadRequest is a 400 with a text/plain message, as Swift's validators answer.
func errBadRequest(format string, args ...any) *apiError {
	return &apiError{code: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func errPrecondition(format string, args ...any) *apiError {
	return &apiError{code: http.StatusPreconditionFailed, msg: fmt.Sprintf(format, args...)}
}

func errTooLarge() *apiError {
	return &apiError{code: http.StatusRequestEntityTooLarge, title: "Request Entity Too Large",
		msg: "The body of your request was too large for this server."}
}

func writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	body := e.msg
	if e.title != "" {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		body = "<html><h1>" + e.title + "</h1><p>" + e.msg + "</p></html>"
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(e.code)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(body))
	}
}

// WriteFault writes an error as Swift's proxy would: a small HTML page
// titled with the status text (the cloud's fault injection uses it).
func WriteFault(w http.ResponseWriter, r *http.Request, code int, message string) {
	writeError(w, r, &apiError{code: code, title: http.StatusText(code), msg: message})
}
