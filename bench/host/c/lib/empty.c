/*
 * Row 6, the FFI floor: a function that does nothing, in a shared library of its own
 * (libempty.so), called by C through a pointer from dlsym, by koffi and by Python's ctypes:
 * what one foreign call costs, with no work in it.
 */
void empty(void) {}
