/** Key of the operational-state table (circuit breakers, e-mail markers). */
export const OPERATIONAL_STATE_KEY = 'pk';
