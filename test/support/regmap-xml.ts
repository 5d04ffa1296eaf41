// Register descriptions in XML, for the importers' tests (test/unit/regmap/ipxact.test.ts and
// svd.test.ts) and for loading a map from a file by its content (test/unit/regmap/load.test.ts).

/** An IP-XACT 2009 component (Vivado's packaged IP uses this schema) with one block. */
export const SPIRIT = `<?xml version="1.0"?>
<spirit:component xmlns:spirit="http://www.spiritconsortium.org/XMLSchema/SPIRIT/1685-2009">
  <spirit:name>uart</spirit:name>
  <spirit:memoryMaps><spirit:memoryMap><spirit:name>regs</spirit:name>
    <spirit:addressBlock><spirit:name>b</spirit:name><spirit:baseAddress>0x100</spirit:baseAddress><spirit:width>32</spirit:width>
      <spirit:register><spirit:name>ISR</spirit:name><spirit:addressOffset>0x4</spirit:addressOffset><spirit:size>32</spirit:size>
        <spirit:access>read-write</spirit:access><spirit:reset><spirit:value>#10</spirit:value></spirit:reset>
        <spirit:field><spirit:name>RX</spirit:name><spirit:bitOffset>0</spirit:bitOffset><spirit:bitWidth>1</spirit:bitWidth>
          <spirit:modifiedWriteValue>oneToClear</spirit:modifiedWriteValue><spirit:readAction>clear</spirit:readAction></spirit:field>
        <spirit:field><spirit:name>LVL</spirit:name><spirit:bitOffset>4</spirit:bitOffset><spirit:bitWidth>2</spirit:bitWidth>
          <spirit:enumeratedValues><spirit:enumeratedValue><spirit:name>low</spirit:name><spirit:value>1</spirit:value></spirit:enumeratedValue>
          <spirit:enumeratedValue><spirit:name>high</spirit:name><spirit:value>2</spirit:value></spirit:enumeratedValue></spirit:enumeratedValues></spirit:field>
      </spirit:register>
      <spirit:register><spirit:name>FIFO</spirit:name><spirit:dim>4</spirit:dim><spirit:addressOffset>0x10</spirit:addressOffset><spirit:size>32</spirit:size><spirit:access>write-only</spirit:access></spirit:register>
      <spirit:register><spirit:name>BASE</spirit:name><spirit:addressOffset>0x20</spirit:addressOffset><spirit:size>64</spirit:size></spirit:register>
    </spirit:addressBlock>
  </spirit:memoryMap></spirit:memoryMaps>
</spirit:component>`;

/** A CMSIS-SVD device with one peripheral: inherited size and access, bit ranges, enums, a dim array. */
export const SVD = `<?xml version="1.0"?>
<device><name>MCU</name><size>32</size><access>read-write</access><resetValue>0</resetValue>
  <peripherals>
    <peripheral><name>TIM1</name><baseAddress>0x40000000</baseAddress>
      <registers>
        <register><name>SR</name><addressOffset>0x10</addressOffset><resetValue>0x1</resetValue>
          <fields>
            <field><name>UIF</name><bitRange>[0:0]</bitRange><modifiedWriteValues>zeroToClear</modifiedWriteValues></field>
            <field><name>MODE</name><lsb>4</lsb><msb>5</msb><enumeratedValues>
              <enumeratedValue><name>up</name><value>0</value></enumeratedValue><enumeratedValue><name>down</name><value>0b01</value></enumeratedValue>
            </enumeratedValues></field>
          </fields></register>
        <register><name>CCR%s</name><dim>4</dim><dimIncrement>4</dimIncrement><addressOffset>0x34</addressOffset><access>read-only</access><readAction>clear</readAction></register>
      </registers>
    </peripheral>
  </peripherals>
</device>`;
