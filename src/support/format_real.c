/* Python's float repr: shortest round-trip digits, exponent form below 1e-4 and from 1e16 on. */
#include "support/format_real.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* v printed with `prec` digits after the point into e, and whether that reads back to v. */
static bool reads_back(char *e, size_t size, int prec, double v, bool as_f32) {
    snprintf(e, size, "%.*e", prec, v);
    double back = strtod(e, NULL);
    return as_f32 ? (float)back == (float)v : back == v;
}

char *lc_format_real(double v, bool as_f32, char buf[32]) {
    /* Longest output: "-d.dddddddddddddddde-308" = 24 bytes; buf has 32. */
    if (isnan(v)) return strcpy(buf, "nan");
    if (isinf(v)) return strcpy(buf, v < 0 ? "-inf" : "inf");
    if (v == 0) return strcpy(buf, signbit(v) ? "-0.0" : "0.0");
    /* Shortest %.*e that reads back to the same value in the target precision. For a double
     * (or a float given exactly) reading back is monotone in the precision: the closest
     * decimal of p + 1 digits is at least as close as that of p digits, which is one of
     * them. So after the short forms most numbers take (up to 3 digits) the rest is a binary
     * search: 4 or 5 conversions instead of up to 14. A double printed as float32 that is not
     * a float has no such order (its float is not centred on it): one precision after another. */
    char e[40];
    int max_prec = as_f32 ? 8 : 16; /* 9 and 17 digits always read back */
    bool monotone = !as_f32 || (double)(float)v == v;
    int prec = 0;
    for (; prec < (monotone ? 3 : max_prec + 1); prec++)
        if (reads_back(e, sizeof e, prec, v, as_f32)) break;
    if (monotone && prec == 3) {
        int lo = prec, hi = max_prec; /* the answer is in [lo, hi]; hi reads back */
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (reads_back(e, sizeof e, mid, v, as_f32)) hi = mid;
            else lo = mid + 1;
        }
        snprintf(e, sizeof e, "%.*e", lo, v); /* e may hold the last failed try */
    }
    /* e is "-d.ddde+XX": split into sign, digits and exponent. */
    const char *p = e;
    bool neg = *p == '-';
    if (neg) p++;
    char digits[24];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = '\0';
    int exp10 = atoi(p + 1);
    char *o = buf;
    if (neg) *o++ = '-';
    if (exp10 < -4 || exp10 >= 16) {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        snprintf(o, 16, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
        return buf;
    }
    if (exp10 < 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -exp10 - 1; i++) *o++ = '0';
        memcpy(o, digits, (size_t)nd);
        o += nd;
    } else {
        for (int i = 0; i <= exp10; i++) *o++ = i < nd ? digits[i] : '0';
        *o++ = '.';
        if (nd > exp10 + 1) {
            memcpy(o, digits + exp10 + 1, (size_t)(nd - exp10 - 1));
            o += nd - exp10 - 1;
        } else {
            *o++ = '0';
        }
    }
    *o = '\0';
    return buf;
}

char *lc_format_number(double v, char buf[32]) {
    lc_format_real(v, false, buf);
    /* Exponent forms ("1e+16") carry no ".0", so only a trailing one is dropped. */
    size_t n = strlen(buf);
    if (n >= 2 && strcmp(buf + n - 2, ".0") == 0) buf[n - 2] = '\0';
    return buf;
}
