/** Key of the inventory table (stock items and reservations). */
export const INVENTORY_KEY = 'sku';
