/**
 * Packet captures: read pcap/pcapng files and find the HIP and ESP packets in them, and write
 * pcap files of what a host sends and receives. Independent of the HIP codec: it only locates
 * packets, it does not parse them.
 * @module
 */

export { readCapture, type CapturedFrame } from './pcap-reader.js';
export {
  decodeFrameIp,
  extractEspPackets,
  extractHipPackets,
  formatIpAddress,
  PcapLinkType,
  type CapturedEsp,
  type CapturedHip,
  type CapturedIp,
  type CapturedLocation,
} from './ip-frames.js';
export { PcapWriter, type Address, type PcapWriterOptions } from './pcap-writer.js';
