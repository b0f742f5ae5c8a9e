/**
 * @module
 * DeleteRecords' wire vocabulary, shared by the edge that checks a request and the partition that acts on it.
 */

/** DeleteRecords' offset that stands for the high watermark, as in Kafka's request (KIP-107). */
export const DELETE_TO_HIGH_WATERMARK = -1;
