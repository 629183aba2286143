/** The raw baseline's topics (bench:fleet). */
export const RAW_REQUEST_TOPIC = 'bench/fleet/raw/req';
export const RAW_REPLY_TOPIC = 'bench/fleet/raw/reply';
