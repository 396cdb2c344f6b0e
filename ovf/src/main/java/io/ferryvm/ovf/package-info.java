/**
 * OVF 1.x/2.x packages and OVA archives: read, validate, write, import, export, sign, and the OVF environment.
 *
 * <p>Public: the immutable model ({@link io.ferryvm.ovf.Envelope} and its records), {@link io.ferryvm.ovf.EnvelopeReader},
 * {@link io.ferryvm.ovf.EnvelopeValidator}, {@link io.ferryvm.ovf.EnvelopeWriter}, {@link io.ferryvm.ovf.VmSpecMapper},
 * {@link io.ferryvm.ovf.OvfImporter}, {@link io.ferryvm.ovf.OvfExporter}, {@link io.ferryvm.ovf.Manifest},
 * {@link io.ferryvm.ovf.Signing}, {@link io.ferryvm.ovf.DiskImages}, {@link io.ferryvm.ovf.OvfEnvironment} and the one
 * error type {@link io.ferryvm.ovf.OvfException}. Everything else is package-private.
 *
 * <p>An OVA import is one forward pass over the archive:
 * <pre>
 *  source (VFS) -> count -> tar members -+-> name/type/size checks (refuse .., /abs, links, lies)
 *                                        |
 *   member 1: descriptor  -> secure XML -> validate -> map to VmSpec     (before any disk byte)
 *   .mf / .cert           -> kept (front) or checked at the end
 *   disk member(s)        -> [chunks joined] -> digest -> [gunzip] -> VMDK reader -> sparse raw (staging)
 *                                                                      (inflate on all cores)
 *   end: every File present, manifest digests, signature -> rename staging to target  (else delete it)
 * </pre>
 */
package io.ferryvm.ovf;
