// glibc's name-service switch: `__nss_configure_lookup` pins a database to the modules named (see NameService.swift).
#include <nss.h>
