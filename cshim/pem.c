// SPDX-License-Identifier: Apache-2.0

/* A structural check of the PEM files the tls.* parameters name, for
 * `rsyslogd -N1`: Go reads them only after the fork, so without this a CA
 * file full of junk would pass the config check and fail at start. Each
 * block must be well-formed PEM whose base64 body decodes to one DER
 * SEQUENCE that fills it exactly; a certificate file needs a CERTIFICATE
 * block, a key file a private key that is not encrypted (Go's TLS cannot
 * read an encrypted one). It is no X.509 parser: Go still checks the
 * contents at start, and says what is wrong there. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

/* Larger files are refused: a CA bundle is a few hundred KiB. */
#define PEM_MAX (8 << 20)

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* pem_base64 decodes the base64 text b64[0..n) (white space allowed) into
 * a buffer to free, its length in *len; NULL when it is not base64. */
unsigned char *pem_base64(const char *b64, size_t n, size_t *len)
{
	unsigned char *der = malloc(n / 4 * 3 + 3);
	unsigned acc = 0;
	int bits = 0, pad = 0;
	*len = 0;
	if (der == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b64[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = b64val(c);
		if (v < 0 || pad > 0) {
			free(der); /* not base64, or data after padding */
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			der[(*len)++] = (unsigned char)(acc >> bits);
		}
	}
	if (pad > 2) {
		free(der);
		return NULL;
	}
	return der;
}

/* der_sequence_fills reports whether the base64 text b64[0..n) decodes to
 * a DER SEQUENCE whose length is exactly the rest of the data. */
static int der_sequence_fills(const char *b64, size_t n)
{
	size_t len;
	unsigned char *der = pem_base64(b64, n, &len);
	int ok = 0;
	if (der == NULL)
		return 0;
	if (len < 2 || der[0] != 0x30)
		goto out;
	size_t body, hdr = 2;
	if (der[1] < 0x80) {
		body = der[1];
	} else {
		int nbytes = der[1] & 0x7f;
		if (nbytes == 0 || nbytes > 4 || len < (size_t)2 + nbytes)
			goto out;
		body = 0;
		for (int i = 0; i < nbytes; i++)
			body = body << 8 | der[2 + i];
		hdr += (size_t)nbytes;
	}
	ok = hdr + body == len;
out:
	free(der);
	return ok;
}

/* check_pem reports, naming the parameter, a file that is not PEM of the
 * kind param wants. */
char *pem_read(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	char *text = malloc(PEM_MAX + 2);
	*n = text != NULL ? fread(text, 1, PEM_MAX + 1, f) : 0;
	fclose(f);
	if (text != NULL)
		text[*n] = '\0';
	return text;
}

int pem_next(const char **p, struct pem_block *b, const char **problem)
{
	const char *begin = strstr(*p, "-----BEGIN ");
	if (begin == NULL)
		return 0;
	const char *label = begin + 11, *label_end = strstr(label, "-----");
	if (label_end == NULL || memchr(label, '\n', (size_t)(label_end - label)) != NULL ||
	    label_end - label > 64) {
		*problem = "has a broken BEGIN line";
		return -1;
	}
	char end_line[96];
	snprintf(end_line, sizeof(end_line), "-----END %.*s-----", (int)(label_end - label), label);
	const char *body = label_end + 5, *end = strstr(body, end_line);
	if (end == NULL) {
		*problem = "has a block without its END line";
		return -1;
	}
	b->label = label;
	b->label_len = (size_t)(label_end - label);
	b->body = body;
	b->body_len = (size_t)(end - body);
	*p = end + strlen(end_line);
	return 1;
}

int check_pem(const char *param, const char *path)
{
	int want_key = !strcmp(param, "tls.key");
	const char *problem = NULL;
	size_t n;
	char *text = pem_read(path, &n);
	if (text == NULL) {
		LogError(errno, RS_RET_CONFIG_ERROR, MODULE_NAME ": %s=\"%s\" cannot be read", param, path);
		return 0;
	}
	int blocks = 0, wanted = 0, more;
	const char *p = text;
	struct pem_block b;
	if (n > PEM_MAX)
		problem = "is larger than 8 MiB";
	while (problem == NULL && (more = pem_next(&p, &b, &problem)) > 0) {
		if (!der_sequence_fills(b.body, b.body_len)) {
			problem = "has a block whose content is not base64 DER (a damaged or wrongly pasted file?)";
			break;
		}
		size_t ll = b.label_len;
		int is_key = ll >= 11 && !memcmp(b.label + ll - 11, "PRIVATE KEY", 11);
		if (want_key && is_key && !strncmp(b.label, "ENCRYPTED", 9)) {
			problem = "holds an encrypted private key, which the module cannot read; decrypt it "
				  "(openssl pkey -in key.pem -out plain.pem) and protect the file by its permissions";
			break;
		}
		wanted += want_key ? is_key : (ll == 11 && !memcmp(b.label, "CERTIFICATE", 11));
		blocks++;
	}
	free(text);
	if (problem == NULL && blocks == 0)
		problem = "holds no PEM block";
	if (problem == NULL && wanted == 0)
		problem = want_key ? "holds no private key" : "holds no certificate";
	if (problem != NULL) {
		LogError(0, RS_RET_CONFIG_ERROR, MODULE_NAME ": %s=\"%s\" %s", param, path, problem);
		return 0;
	}
	return 1;
}
