// glibc's malloc tuning: `mallopt` keeps large event buffers on the heap (see Runtime/MemoryTuning.swift).
#include <malloc.h>
