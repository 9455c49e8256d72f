/** Keys of the orders read-model table, shared by the CDK construct, the handlers and tests. */
export const ORDERS_VIEW_KEY = 'orderId';
/** Global secondary index of a customer's orders, newest first by `placedAt`. */
export const ORDERS_BY_CUSTOMER_INDEX = 'byCustomer';
export const ORDERS_BY_CUSTOMER_PARTITION_KEY = 'customerId';
export const ORDERS_BY_CUSTOMER_SORT_KEY = 'placedAt';
