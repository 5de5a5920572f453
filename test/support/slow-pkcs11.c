/*
 * A PKCS#11 module in front of a real one (SLOW_PKCS11_MODULE) that holds every C_Sign back by the
 * milliseconds written in SLOW_PKCS11_DELAY_FILE, read at each call: an HSM that turns slow or hangs
 * and then recovers, for the fault tests. Everything else goes straight to the real module.
 * Test-only; compiled by test/support/slow-hsm.ts.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CK_PTR *
#define CK_DECLARE_FUNCTION(returnType, name) returnType name
#define CK_DECLARE_FUNCTION_POINTER(returnType, name) returnType(*name)
#define CK_CALLBACK_FUNCTION(returnType, name) returnType(*name)
#define NULL_PTR 0
#include "pkcs11.h"

static CK_FUNCTION_LIST slow;
static CK_FUNCTION_LIST_PTR real;

static long delay_ms(void) {
  const char *file = getenv("SLOW_PKCS11_DELAY_FILE");
  FILE *f = file ? fopen(file, "r") : NULL;
  long ms = 0;
  if (f) {
    if (fscanf(f, "%ld", &ms) != 1) ms = 0;
    fclose(f);
  }
  return ms;
}

static CK_RV slow_sign(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG length, CK_BYTE_PTR signature,
                       CK_ULONG_PTR signature_length) {
  long ms = delay_ms();
  if (ms > 0) {
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
  }
  return real->C_Sign(session, data, length, signature, signature_length);
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
  if (!real) {
    const char *path = getenv("SLOW_PKCS11_MODULE");
    void *module = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
    if (!module) return CKR_GENERAL_ERROR;
    CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(module, "C_GetFunctionList");
    if (!get || get(&real) != CKR_OK) return CKR_GENERAL_ERROR;
    slow = *real;
    slow.C_Sign = slow_sign;
  }
  *list = &slow;
  return CKR_OK;
}
