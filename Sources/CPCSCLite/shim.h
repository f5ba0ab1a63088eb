/* libpcsclite (pcsc-lite client library). SCARD_PCI_T0 and
 * SCARD_PCI_T1 are macros taking the address of a global, which Swift cannot import; the two inline
 * functions return them. No logic. */
#ifndef GATE_PCSC_SHIM_H
#define GATE_PCSC_SHIM_H

#include <winscard.h>

/// SCARD_PCI_T0: the protocol header SCardTransmit needs for a T=0 card.
static inline const SCARD_IO_REQUEST *gate_pcsc_pci_t0(void) { return SCARD_PCI_T0; }
/// SCARD_PCI_T1: the protocol header SCardTransmit needs for a T=1 card.
static inline const SCARD_IO_REQUEST *gate_pcsc_pci_t1(void) { return SCARD_PCI_T1; }

#endif
