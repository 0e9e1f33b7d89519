/* Python's float repr: shortest round-trip digits, exponent form below 1e-4 and from 1e16 on. */
#include "support/format_real.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *lc_format_real(double v, bool as_f32, char buf[32]) {
    /* Longest output: "-d.dddddddddddddddde-308" = 24 bytes; buf has 32. */
    if (isnan(v)) return strcpy(buf, "nan");
    if (isinf(v)) return strcpy(buf, v < 0 ? "-inf" : "inf");
    if (v == 0) return strcpy(buf, signbit(v) ? "-0.0" : "0.0");
    /* Shortest %.*e that reads back to the same value in the target precision. */
    char e[40];
    int max_digits = as_f32 ? 9 : 17;
    for (int prec = 0; prec < max_digits; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, v);
        double back = strtod(e, NULL);
        if (as_f32 ? (float)back == (float)v : back == v) break;
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
