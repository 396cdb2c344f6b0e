/**
 * The serial port device: output the guest prints (progress markers), saved and restored with the VM.
 * Shape shared by every device: {@code XDevice} (behaviour, {@code Migratable}), {@code XState} (record).
 */
package io.ferryvm.core.device.serial;
