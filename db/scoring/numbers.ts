import { z } from 'zod';
/** A finite number from a query string ("38", "-1.5"); anything else is a 400 naming the parameter. */
export const finite = z.string().regex(/^-?\d{1,15}(\.\d{1,10})?$/, 'a number such as 40 or -1.5').transform(Number);
