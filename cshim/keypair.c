// SPDX-License-Identifier: Apache-2.0

/* Does tls.key belong to tls.cert? For `rsyslogd -N1`: Go reads the pair
 * only after the fork, and a key of another certificate would otherwise
 * pass the check while the action never starts. The public key in the
 * certificate's SubjectPublicKeyInfo is compared with the one the private
 * key carries: RSA (modulus and exponent) and EC (the public point, which
 * OpenSSL and Go always write). A key that carries none (Ed25519, an EC
 * key without its point) is left to Go's check at start. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

/* A DER value: its contents. */
struct der {
	const unsigned char *p;
	size_t n;
};

/* der_next takes the next TLV off d: its tag, its contents in *val. */
static int der_next(struct der *d, int *tag, struct der *val)
{
	if (d->n < 2)
		return 0;
	size_t len, hdr = 2;
	*tag = d->p[0];
	if (d->p[1] < 0x80) {
		len = d->p[1];
	} else {
		int nbytes = d->p[1] & 0x7f;
		if (nbytes == 0 || nbytes > 4 || d->n < (size_t)2 + nbytes)
			return 0;
		len = 0;
		for (int i = 0; i < nbytes; i++)
			len = len << 8 | d->p[2 + i];
		hdr += (size_t)nbytes;
	}
	if (len > d->n - hdr)
		return 0;
	val->p = d->p + hdr;
	val->n = len;
	d->p += hdr + len;
	d->n -= hdr + len;
	return 1;
}

/* der_enter expects a value of tag at d and gives its contents. */
static int der_enter(struct der *d, int want, struct der *val)
{
	int tag;
	return der_next(d, &tag, val) && tag == want;
}

static int der_equal(struct der a, struct der b)
{
	return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* first_block decodes the first PEM block of path whose label ends in
 * suffix; its label goes to label (sized 64). NULL if there is none. */
static unsigned char *first_block(const char *path, const char *suffix, char *label, size_t *len)
{
	size_t n;
	char *text = pem_read(path, &n);
	if (text == NULL)
		return NULL;
	unsigned char *der = NULL;
	const char *p = text, *problem = NULL;
	struct pem_block b;
	size_t sl = strlen(suffix);
	while (der == NULL && pem_next(&p, &b, &problem) > 0) {
		if (b.label_len < 64 && b.label_len >= sl && !memcmp(b.label + b.label_len - sl, suffix, sl)) {
			memcpy(label, b.label, b.label_len);
			label[b.label_len] = '\0';
			der = pem_base64(b.body, b.body_len, len);
		}
	}
	free(text);
	return der;
}

/* cert_spki finds the certificate's public key: the algorithm's OID and
 * the BIT STRING's contents (its unused-bits byte first). */
static int cert_spki(struct der cert, struct der *oid, struct der *bits)
{
	struct der c, tbs, skip, spki, alg;
	int tag;
	if (!der_enter(&cert, 0x30, &c) || !der_enter(&c, 0x30, &tbs))
		return 0;
	if (tbs.n > 0 && tbs.p[0] == 0xa0 && !der_next(&tbs, &tag, &skip)) /* version */
		return 0;
	for (int i = 0; i < 5; i++) /* serial, signature, issuer, validity, subject */
		if (!der_next(&tbs, &tag, &skip))
			return 0;
	return der_enter(&tbs, 0x30, &spki) && der_enter(&spki, 0x30, &alg) && der_enter(&alg, 0x06, oid) &&
	       der_enter(&spki, 0x03, bits);
}

static const unsigned char oid_rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };
static const unsigned char oid_ec[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };

/* Results of comparing a key with the certificate's public key. */
enum { PAIR_DIFFERENT = 0, PAIR_SAME = 1, PAIR_UNKNOWN = 2 };

/* rsa_matches compares an RSAPrivateKey (version, n, e, ...) with the
 * certificate's RSAPublicKey (n, e). */
static int rsa_matches(struct der key, struct der oid, struct der bits)
{
	struct der k, ver, n, e, pub, pn, pe;
	if (oid.n != sizeof(oid_rsa) || memcmp(oid.p, oid_rsa, oid.n) || bits.n < 1)
		return PAIR_DIFFERENT;
	struct der b = { bits.p + 1, bits.n - 1 };
	if (!der_enter(&key, 0x30, &k) || !der_enter(&k, 0x02, &ver) || !der_enter(&k, 0x02, &n) ||
	    !der_enter(&k, 0x02, &e) || !der_enter(&b, 0x30, &pub) || !der_enter(&pub, 0x02, &pn) ||
	    !der_enter(&pub, 0x02, &pe))
		return PAIR_DIFFERENT;
	return der_equal(n, pn) && der_equal(e, pe) ? PAIR_SAME : PAIR_DIFFERENT;
}

/* ec_matches compares an ECPrivateKey's public point ([1] BIT STRING)
 * with the certificate's. */
static int ec_matches(struct der key, struct der oid, struct der bits)
{
	struct der k, v, pub;
	int tag;
	if (oid.n != sizeof(oid_ec) || memcmp(oid.p, oid_ec, oid.n))
		return PAIR_DIFFERENT;
	if (!der_enter(&key, 0x30, &k))
		return PAIR_DIFFERENT;
	while (der_next(&k, &tag, &v))
		if (tag == 0xa1)
			return der_enter(&v, 0x03, &pub) && der_equal(pub, bits) ? PAIR_SAME : PAIR_DIFFERENT;
	return PAIR_UNKNOWN;
}

/* pkcs8_matches opens a PrivateKeyInfo (version, algorithm, key). */
static int pkcs8_matches(struct der key, struct der oid, struct der bits)
{
	struct der k, ver, alg, koid, inner;
	if (!der_enter(&key, 0x30, &k) || !der_enter(&k, 0x02, &ver) || !der_enter(&k, 0x30, &alg) ||
	    !der_enter(&alg, 0x06, &koid) || !der_enter(&k, 0x04, &inner))
		return PAIR_DIFFERENT;
	if (koid.n == sizeof(oid_rsa) && !memcmp(koid.p, oid_rsa, koid.n))
		return rsa_matches(inner, oid, bits);
	if (koid.n == sizeof(oid_ec) && !memcmp(koid.p, oid_ec, koid.n))
		return ec_matches(inner, oid, bits);
	return PAIR_UNKNOWN;
}

int check_key_pair(const char *cert_path, const char *key_path)
{
	char cert_label[64], key_label[64];
	size_t cert_len = 0, key_len = 0;
	unsigned char *cert = first_block(cert_path, "CERTIFICATE", cert_label, &cert_len);
	unsigned char *key = first_block(key_path, "PRIVATE KEY", key_label, &key_len);
	int verdict = PAIR_UNKNOWN;
	struct der oid, bits;
	if (cert != NULL && key != NULL && cert_spki((struct der){ cert, cert_len }, &oid, &bits)) {
		struct der k = { key, key_len };
		if (!strcmp(key_label, "RSA PRIVATE KEY"))
			verdict = rsa_matches(k, oid, bits);
		else if (!strcmp(key_label, "EC PRIVATE KEY"))
			verdict = ec_matches(k, oid, bits);
		else if (!strcmp(key_label, "PRIVATE KEY"))
			verdict = pkcs8_matches(k, oid, bits);
	}
	free(cert);
	free(key);
	if (verdict == PAIR_DIFFERENT) {
		LogError(0, RS_RET_CONFIG_ERROR,
			 MODULE_NAME ": tls.key=\"%s\" is not the key of tls.cert=\"%s\" (their public keys differ): "
			 "name the key the certificate was issued for",
			 key_path, cert_path);
		return 0;
	}
	return 1;
}
