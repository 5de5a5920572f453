/** Points per millimetre (1 pt = 1/72 in). */
export const MM = 72 / 25.4;

export const mmToPt = (mm: number): number => mm * MM;
